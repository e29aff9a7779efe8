//! Reading a JSON object as a struct, and only an object.
//!
//! serde's derived `Deserialize` for a struct also takes a JSON array of its fields in
//! declaration order: `"policy": ["p-7", "3"]` would read as `{"id": "p-7", "version": "3"}`.
//! Evident's documents (the event schema, the OpenAPI document) allow an object only, and a
//! value sent some other way should be refused, not reinterpreted. Struct-typed fields of the
//! types clients send are read through [`object`], [`optional_object`] or
//! [`optional_objects`]; a whole body or a batch element through [`Object`].
//!
//! ```
//! #[derive(serde::Deserialize)]
//! struct Outer {
//!     #[serde(deserialize_with = "evident_core::objects::object")]
//!     inner: Inner,
//! }
//! #[derive(serde::Deserialize)]
//! struct Inner {
//!     id: String,
//! }
//! assert!(serde_json::from_str::<Outer>(r#"{"inner": {"id": "a"}}"#).is_ok());
//! assert!(serde_json::from_str::<Outer>(r#"{"inner": ["a"]}"#).is_err());
//! ```

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};

/// A `T` that was sent as a JSON object.
#[derive(Debug, Clone, PartialEq)]
pub struct Object<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        object(deserializer).map(Object)
    }
}

/// Reads a `T` from a JSON object; anything else (an array above all) is refused.
pub fn object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<T, D::Error> {
    deserializer.deserialize_map(ObjectVisitor(PhantomData))
}

/// Reads an optional `T` from a JSON object or `null`; anything else is refused.
pub fn optional_object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    Ok(Option::<Object<T>>::deserialize(deserializer)?.map(|Object(value)| value))
}

/// Reads an optional list whose items are each a JSON object; anything else is refused.
pub fn optional_objects<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Vec<T>>, D::Error> {
    Ok(Option::<Vec<Object<T>>>::deserialize(deserializer)?
        .map(|items| items.into_iter().map(|Object(item)| item).collect()))
}

struct ObjectVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::deserialize(MapAccessDeserializer::new(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Policy {
        id: Option<String>,
        version: Option<String>,
    }

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Event {
        #[serde(default, deserialize_with = "optional_object")]
        policy: Option<Policy>,
    }

    fn read(text: &str) -> Result<Event, serde_json::Error> {
        serde_json::from_str(text)
    }

    #[test]
    fn an_object_reads_as_the_struct_and_null_or_absent_as_none() -> Result<(), serde_json::Error> {
        assert_eq!(
            read(r#"{"policy": {"id": "p-7"}}"#)?.policy,
            Some(Policy {
                id: Some("p-7".into()),
                version: None
            })
        );
        assert_eq!(read(r#"{"policy": null}"#)?.policy, None);
        assert_eq!(read("{}")?.policy, None);
        Ok(())
    }

    #[test]
    fn an_array_of_the_fields_is_refused_as_not_an_object() {
        for sent in [r#"{"policy": ["p-7", "3"]}"#, r#"{"policy": [null, null]}"#] {
            let refused = read(sent).map(|e| e.policy).err().map(|e| e.to_string());
            assert!(
                refused
                    .as_deref()
                    .is_some_and(|m| m.contains("expected an object")),
                "{sent}: {refused:?}"
            );
        }
    }

    #[test]
    fn the_struct_still_refuses_what_it_refused() {
        assert!(read(r#"{"policy": {"nope": 1}}"#).is_err());
        assert!(serde_json::from_str::<Object<Policy>>(r#"["a", "b"]"#).is_err());
        assert!(serde_json::from_str::<Object<Policy>>(r#"{"id": "a"}"#).is_ok());
    }
}
