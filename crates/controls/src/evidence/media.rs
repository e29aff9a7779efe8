//! The media type of an evidence file: from its first bytes where they are unmistakable,
//! else from its extension, else `application/octet-stream`.

/// Guesses the media type of `content` named `file_name`.
pub fn guess(file_name: &str, content: &[u8]) -> &'static str {
    const MAGIC: &[(&[u8], &str)] = &[
        (b"%PDF-", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"\xff\xd8\xff", "image/jpeg"),
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
        (b"\x1f\x8b", "application/gzip"),
    ];
    if let Some((_, media)) = MAGIC.iter().find(|(m, _)| content.starts_with(m)) {
        return media;
    }
    let extension = file_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "txt" | "log" => "text/plain",
        "md" => "text/markdown",
        "csv" => "text/csv",
        "html" | "htm" => "text/html",
        "json" => "application/json",
        "sarif" => "application/sarif+json",
        "xml" => "application/xml",
        "yaml" | "yml" => "application/yaml",
        "zip" => "application/zip",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "gz" => "application/gzip",
        _ if content.starts_with(b"PK\x03\x04") => "application/zip",
        _ => "application/octet-stream",
    }
}

/// Whether `text` reads as a media type (`type/subtype`, printable, no spaces).
pub fn is_media_type(text: &str) -> bool {
    let ok = |part: &str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.!#$&^_".contains(&b))
    };
    text.len() <= 127 && text.split_once('/').is_some_and(|(t, s)| ok(t) && ok(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_wins_over_the_extension() {
        assert_eq!(guess("review.txt", b"%PDF-1.7 ..."), "application/pdf");
        assert_eq!(guess("review.PDF", b"no magic"), "application/pdf");
        assert_eq!(guess("scan.sarif", b"{}"), "application/sarif+json");
        assert_eq!(guess("blob", b"\x00\x01"), "application/octet-stream");
        assert_eq!(guess("export", b"PK\x03\x04rest"), "application/zip");
    }

    #[test]
    fn media_types_are_type_slash_subtype() {
        assert!(is_media_type("application/vnd.ms-excel"));
        assert!(!is_media_type("application"));
        assert!(!is_media_type("text/ plain"));
        assert!(!is_media_type("/plain"));
    }
}
