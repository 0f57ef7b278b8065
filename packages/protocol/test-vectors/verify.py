#!/usr/bin/env python3
"""Checks signatures.json with a verifier written in Python 3 (standard library only).

1. Every vector is verified by the reference verifier below; its verdict (and failure code) must
   match the vector's `valid` (and `expected_code`).
2. The Python signing snippet of ../README.md is executed and must reproduce the signature of every
   valid vector, so the documented lines are known to work.

Exits non-zero on any mismatch. Usage: python3 test-vectors/verify.py   (from packages/protocol)
"""
import base64
import binascii
import calendar
import hashlib
import hmac
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def key_of(secret):
    if secret.startswith("whsec_"):
        rest = secret[6:]
        raw = base64.b64decode(rest, validate=True)
        if base64.b64encode(raw).decode() != rest or not 24 <= len(raw) <= 64:
            raise ValueError("bad whsec_ secret in vector")
        return raw
    if len(secret) < 32:
        raise ValueError("raw secret under 32 characters in vector")
    return secret.encode("utf-8")


ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$"
)


def legacy_seconds(value):
    """Unix seconds, or ('naive' | 'malformed')."""
    if re.fullmatch(r"[0-9]{1,15}(\.[0-9]{1,9})?", value):
        return float(value)
    m = ISO.match(value)
    if not m:
        return "malformed"
    y, mo, d, h, mi, s, frac, z, sign, oh, om = m.groups()
    if z is None and sign is None:
        return "naive"
    t = calendar.timegm((int(y), int(mo), int(d), int(h), int(mi), int(s or 0), 0, 0, 0))
    if sign is not None:
        t -= (1 if sign == "+" else -1) * (int(oh) * 3600 + int(om) * 60)
    return t + (float("0" + frac) if frac else 0)


def verify(vector):
    """Returns None when valid, else the failure code."""
    body = base64.b64decode(vector["body_base64"])
    headers = {k.lower(): v for k, v in vector["headers"].items()}
    keys = [key_of(s) for s in vector["secrets"]]
    now, tol = vector["now"], vector["tolerance_s"]
    v1_names = ("webhook-id", "webhook-timestamp", "webhook-signature")
    if any(headers.get(n) for n in v1_names):
        if not all(headers.get(n) for n in v1_names):
            return "missing_headers"
        msg_id, ts, sig = (headers[n] for n in v1_names)
        if not re.fullmatch(r"[\x21-\x7e]{1,256}", msg_id):
            return "malformed_id"
        if not re.fullmatch(r"[0-9]{1,15}", ts):
            return "malformed_timestamp"
        if abs(now - int(ts)) > tol:
            return "outside_tolerance"
        entries = [e[3:] for e in sig.split() if e.startswith("v1,")]
        for k in keys:
            expected = base64.b64encode(hmac.new(k, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest())
            if any(hmac.compare_digest(expected, e.encode()) for e in entries):
                return None
        return "no_matching_signature"
    ts, sig = headers.get("x-webhook-timestamp"), headers.get("x-webhook-signature")
    if not ts or not sig:
        return "missing_headers"
    seconds = legacy_seconds(ts)
    if seconds == "naive":
        return "naive_timestamp"
    if seconds == "malformed":
        return "malformed_timestamp"
    if abs(now - seconds) > tol:
        return "outside_tolerance"
    hexsig = sig[7:] if sig.startswith("sha256=") else sig
    if not re.fullmatch(r"[0-9a-f]{64}", hexsig):
        return "no_matching_signature"
    for k in keys:
        expected = hmac.new(k, body + b"." + ts.encode(), hashlib.sha256).hexdigest()
        if hmac.compare_digest(expected, hexsig):
            return None
    return "no_matching_signature"


def readme_snippet():
    """The Python block that follows the marker comment in ../README.md, executed."""
    with open(os.path.join(HERE, "..", "README.md"), encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"executed by test-vectors/verify\.py.*?```python\n(.*?)```", text, re.S)
    if not m:
        raise SystemExit("verify.py: README.md has no Python signing block after the verify.py marker")
    scope = {}
    exec(compile(m.group(1), "README.md", "exec"), scope)
    return scope


def snippet_reproduces(vector, snippet):
    """A valid vector's signature must be what the README's sign_v1 / sign_legacy write for one of its secrets."""
    body = base64.b64decode(vector["body_base64"])
    headers = {k.lower(): v for k, v in vector["headers"].items()}
    if vector["scheme"] == "v1":
        entries = headers["webhook-signature"].split()
        ts = int(headers["webhook-timestamp"])
        made = [snippet["sign_v1"](s, body, headers["webhook-id"], ts)["webhook-signature"] for s in vector["secrets"]]
        return any(m in entries for m in made)
    sig = headers["x-webhook-signature"].removeprefix("sha256=")
    ts = headers["x-webhook-timestamp"]
    return any(snippet["sign_legacy"](s, body, ts)["X-Webhook-Signature"] == sig for s in vector["secrets"])


def main():
    with open(os.path.join(HERE, "signatures.json"), encoding="utf-8") as f:
        vectors = json.load(f)["vectors"]
    snippet = readme_snippet()
    failures = []
    for v in vectors:
        try:
            code = verify(v)
        except (ValueError, binascii.Error, KeyError) as e:
            failures.append(f"{v['name']}: {e}")
            continue
        if (code is None) != v["valid"]:
            failures.append(f"{v['name']}: expected valid={v['valid']}, got {code or 'valid'}")
        elif not v["valid"] and v.get("expected_code") not in (None, code):
            failures.append(f"{v['name']}: expected {v['expected_code']}, got {code}")
        if v["valid"] and not snippet_reproduces(v, snippet):
            failures.append(f"{v['name']}: the README Python snippet does not reproduce the signature")
    if len(vectors) < 20:
        failures.append(f"only {len(vectors)} vectors; at least 20 are required")
    for line in failures:
        print("FAIL", line, file=sys.stderr)
    if failures:
        return 1
    print(f"verify.py: {len(vectors)} signature vectors OK (reference verifier and README snippet)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
