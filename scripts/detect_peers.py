#!/usr/bin/env python3
"""Runs Presidio's analyzer and detect-secrets over files for `evident bench detect`.

Usage: detect_peers.py OUT.json FILE...

For each file, both tools see the same text Evident scanned. Presidio gets each line
(it is built for short texts; its pattern recognizers find what it can, and the spaCy
pipeline is a blank English one, since models cannot be downloaded here and no scored
entity depends on NER). detect-secrets gets each line through scan_line with its default
plugins. Writes, per tool: predictions (file, entity, start, end as byte offsets) and the
seconds spent, which the Rust side scores and prints beside Evident's own figures.
"""
import json
import logging
import os
import sys
import tempfile
import time

logging.disable(logging.CRITICAL)

PRESIDIO_ENTITIES = {
    "CREDIT_CARD": "card",
    "US_SSN": "ssn",
    "US_ITIN": "itin",
    "EMAIL_ADDRESS": "email",
    "PHONE_NUMBER": "phone",
    "IBAN_CODE": "iban",
    "IP_ADDRESS": "ip",
}


def lines_with_offsets(data):
    offset = 0
    for raw in data.split(b"\n"):
        yield offset, raw
        offset += len(raw) + 1


def byte_span(text, start, end):
    """Presidio answers character offsets; the corpus labels are bytes."""
    prefix = len(text[:start].encode("utf-8"))
    return prefix, prefix + len(text[start:end].encode("utf-8"))


def run_presidio(files):
    import spacy
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    model_dir = os.path.join(tempfile.mkdtemp(), "blank_en")
    spacy.blank("en").to_disk(model_dir)
    nlp = NlpEngineProvider(nlp_configuration={
        "nlp_engine_name": "spacy",
        "models": [{"lang_code": "en", "model_name": model_dir}],
    }).create_engine()
    analyzer = AnalyzerEngine(nlp_engine=nlp, supported_languages=["en"])
    entities = list(PRESIDIO_ENTITIES)
    predictions = []
    start_time = time.perf_counter()
    for path in files:
        with open(path, "rb") as f:
            data = f.read()
        for offset, raw in lines_with_offsets(data):
            if not raw.strip():
                continue
            text = raw.decode("utf-8", "replace")
            for r in analyzer.analyze(text=text, language="en", entities=entities):
                s, e = byte_span(text, r.start, r.end)
                predictions.append({"file": path, "entity": PRESIDIO_ENTITIES[r.entity_type],
                                    "start": offset + s, "end": offset + e})
    return predictions, time.perf_counter() - start_time


def run_detect_secrets(files):
    from detect_secrets.core.scan import scan_line
    from detect_secrets.settings import default_settings

    predictions = []
    with default_settings():
        start_time = time.perf_counter()
        for path in files:
            with open(path, "rb") as f:
                data = f.read()
            for offset, raw in lines_with_offsets(data):
                if not raw.strip():
                    continue
                text = raw.decode("utf-8", "replace")
                for secret in scan_line(text):
                    value = secret.secret_value or ""
                    at = text.find(value) if value else -1
                    if at < 0:
                        s, e = 0, len(raw)
                    else:
                        s, e = byte_span(text, at, at + len(value))
                    predictions.append({"file": path, "entity": "secret",
                                        "start": offset + s, "end": offset + e})
        seconds = time.perf_counter() - start_time
    return predictions, seconds


def main():
    out, files = sys.argv[1], sys.argv[2:]
    result = {}
    for name, run in (("presidio", run_presidio), ("detect-secrets", run_detect_secrets)):
        try:
            predictions, seconds = run(files)
            result[name] = {"predictions": predictions, "seconds": seconds}
        except ImportError as e:
            result[name] = {"error": f"not installed: {e}"}
    with open(out, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
