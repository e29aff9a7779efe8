#!/usr/bin/env python3
"""Runs Presidio's analyzer and detect-secrets over files for `evident bench detect`.

Usage: detect_peers.py OUT.json FILE...

For each file, both tools see the same text Evident scanned. Presidio gets each line
(it is built for short texts) with every predefined recognizer loaded, the country-specific
ones too (Presidio registers those for their own languages only; here each is registered
for English, the language of the corpus), at the analyzer's default score threshold. The
spaCy pipeline is a blank English one, since models cannot be downloaded here and no scored
entity depends on NER. detect-secrets gets each line through scan_line with its default
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

# Presidio's entity names and ours. MEDICAL_LICENSE is Presidio's name for the DEA
# registration format (its recognizer checks the DEA check digit).
PRESIDIO_ENTITIES = {
    "CREDIT_CARD": "card",
    "US_SSN": "ssn",
    "US_ITIN": "itin",
    "EMAIL_ADDRESS": "email",
    "PHONE_NUMBER": "phone",
    "ZA_MOBILE_NUMBER": "phone",
    "ZA_TELEPHONE_NUMBER": "phone",
    "IBAN_CODE": "iban",
    "IP_ADDRESS": "ip",
    "US_NPI": "npi",
    "MEDICAL_LICENSE": "dea",
    "US_PASSPORT": "us_passport",
    "US_DRIVER_LICENSE": "us_driver_license",
    "US_BANK_NUMBER": "us_bank_account",
    "ABA_ROUTING_NUMBER": "aba_routing",
    "US_MBI": "us_mbi",
    "US_HEALTH_INSURANCE_MEMBER_ID": "health_plan_id",
    "US_CLAIM_NUMBER": "claim_number",
    "US_PRESCRIPTION_NUMBER": "rx_number",
    "US_PRIOR_AUTHORIZATION_NUMBER": "prior_auth",
    "US_PROVIDER_TAX_ID": "provider_tax_id",
    "UK_NHS": "uk_nhs",
    "UK_NINO": "uk_nino",
    "UK_PASSPORT": "uk_passport",
    "UK_DRIVING_LICENCE": "uk_driving_licence",
    "CA_SIN": "ca_sin",
    "ES_NIF": "es_nif",
    "ES_NIE": "es_nie",
    "IT_FISCAL_CODE": "it_fiscal_code",
    "DE_TAX_ID": "de_tax_id",
    "DE_SOCIAL_SECURITY": "de_social_security",
    "DE_HEALTH_INSURANCE": "de_health_insurance",
    "PL_PESEL": "pl_pesel",
    "SE_PERSONNUMMER": "se_personnummer",
    "FI_PERSONAL_IDENTITY_CODE": "fi_personal_id",
    "IN_AADHAAR": "in_aadhaar",
    "IN_PAN": "in_pan",
    "AU_TFN": "au_tfn",
    "AU_MEDICARE": "au_medicare",
    "AU_ABN": "au_abn",
    "SG_NRIC_FIN": "sg_nric",
    "ZA_ID_NUMBER": "za_id",
    "KR_RRN": "kr_rrn",
    "CRYPTO": "crypto",
    "DE_PASSPORT": "de_passport",
    "DE_ID_CARD": "de_id_card",
    "DE_FUEHRERSCHEIN": "de_driving_licence",
    "ES_PASSPORT": "es_passport",
    "IT_PASSPORT": "it_passport",
    "IT_IDENTITY_CARD": "it_identity_card",
    "IT_DRIVER_LICENSE": "it_driving_licence",
    "IT_VAT_CODE": "it_vat_code",
    "IN_PASSPORT": "in_passport",
    "IN_VOTER": "in_voter_id",
    "KR_PASSPORT": "kr_passport",
    "KR_DRIVER_LICENSE": "kr_driving_licence",
    "KR_FRN": "kr_rrn",
    "NG_NIN": "ng_nin",
    "PH_TIN": "ph_tin",
    "TH_TNIN": "th_tnin",
    "TR_NATIONAL_ID": "tr_tckn",
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


def all_pattern_recognizers():
    """Every predefined recognizer that needs no model or service, registered for English."""
    import inspect

    from presidio_analyzer import EntityRecognizer
    from presidio_analyzer import predefined_recognizers as predefined

    for name in sorted(dir(predefined)):
        cls = getattr(predefined, name)
        if not inspect.isclass(cls) or not issubclass(cls, EntityRecognizer):
            continue
        module = cls.__module__
        if any(part in module for part in (".ner.", ".nlp_engine_recognizers.", ".third_party.")):
            continue
        try:
            yield cls(supported_language="en")
        except Exception:  # noqa: BLE001 - a recognizer that cannot load here is left out
            continue


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
    loaded = analyzer.registry.get_supported_entities(languages=["en"])
    for recognizer in all_pattern_recognizers():
        if not set(recognizer.supported_entities) <= set(loaded):
            analyzer.registry.add_recognizer(recognizer)
            loaded = analyzer.registry.get_supported_entities(languages=["en"])
    print(f"presidio: {len(loaded)} entity types loaded", file=sys.stderr)
    predictions = []
    start_time = time.perf_counter()
    for path in files:
        with open(path, "rb") as f:
            data = f.read()
        for offset, raw in lines_with_offsets(data):
            if not raw.strip():
                continue
            text = raw.decode("utf-8", "replace")
            for r in analyzer.analyze(text=text, language="en"):
                ours = PRESIDIO_ENTITIES.get(r.entity_type)
                if ours is None:
                    continue
                s, e = byte_span(text, r.start, r.end)
                predictions.append({"file": path, "entity": ours,
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
