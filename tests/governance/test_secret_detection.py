"""The secret detection behind redaction: each kind of credential found, ordinary content left alone."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from governance.redaction import MARKER, redact, redact_json, redact_text

PEM = (
    ec.generate_private_key(ec.SECP256R1())
    .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    .decode()
)
PEM_BODY = PEM.splitlines()[1]  # a line of the key itself, not the BEGIN header

SAMPLES = {
    "aws key id": ("id AKIAZ3MQ7XK2LP9RTW4B ok", "AKIAZ3MQ7XK2LP9RTW4B"),
    "aws secret": (
        "aws_secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY'",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY",
    ),
    "azure": ("AccountKey=" + "q" * 86 + "==;", "q" * 86),
    "url password": ("postgres://app:s3cr3t-pw@db.internal:5432/app", "s3cr3t-pw"),
    "github": ("token ghp_" + "a1B2" * 9, "a1B2" * 9),
    "gitlab": ("glpat-" + "Zx9" * 7, "Zx9" * 7),
    "jwt": (
        "Authorization: eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlX2J5dGVzX2hlcmU",
        "c2lnbmF0dXJlX2J5dGVzX2hlcmU",
    ),
    "mailchimp": ("key " + "0123456789abcdef" * 2 + "-us12", "0123456789abcdef" * 2),
    "npm": ("//registry.npmjs.org/:_authToken=npm_" + "a" * 36, "npm_" + "a" * 36),
    "openai": ("sk-proj-" + "Ab3" * 12, "Ab3" * 12),
    "anthropic": ("ANTHROPIC_KEY sk-ant-api03-" + "Qr7" * 10, "Qr7" * 10),
    "pypi": ("pypi-AgEIcHlwaS5vcmc" + "B" * 70, "B" * 70),
    "sendgrid": ("SG." + "a" * 22 + "." + "b" * 43, "b" * 43),
    "slack": ("xoxb-123456789012-123456789012-abcdefABCDEF1234", "abcdefABCDEF1234"),
    "square": ("sq0csp-" + "c" * 43, "c" * 43),
    "stripe live": ("sk_live_" + "d4E" * 8, "d4E" * 8),
    "stripe test": ("rk_test_" + "e5F" * 8, "e5F" * 8),
    "twilio": ("SK" + "0123456789abcdef" * 2, "0123456789abcdef" * 2),
    "bearer": ("Authorization: Bearer opaque.Token-Value_1234567890", "opaque.Token-Value_1234567890"),
    "keyword assignment": ('db_password = "correct horse battery"', "correct horse battery"),
    "keyword in json": ('{"api_key": "k-live-77aa88bb"}', "k-live-77aa88bb"),
    "keyword yaml": ("password: 'Tr0ub4dor&3'", "Tr0ub4dor&3"),
    "keyword comparison": ('if ("letmein99" == admin_password)', "letmein99"),
    "keyword semicolon": ('pwd "s3cr3tvalue";', "s3cr3tvalue"),
    "pem": (f"key:\n{PEM}\ndone", PEM_BODY),
    "openssh": (
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAE\n-----END OPENSSH PRIVATE KEY-----",
        "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAE",
    ),
    "putty": (
        "PuTTY-User-Key-File-2: ssh-rsa\nPrivate-Lines: 1\nAAAAgQDhZ2Fyb2ZhbG9uZ3NlY3JldA\nPrivate-MAC: 0a1b2c",
        "AAAAgQDhZ2Fyb2ZhbG9uZ3NlY3JldA",
    ),
}


@pytest.mark.requirement("redaction.results")
@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_kind_of_credential_is_redacted_in_text_and_inside_json(name: str) -> None:
    text, secret = SAMPLES[name]
    assert secret not in redact_text(text)
    assert MARKER in redact_text(text)
    # The pre-filter runs on a JSON dump, where quotes and newlines are escaped.
    nested = redact_json({"page": {"lines": [f'said "{text}"\n']}})
    assert secret not in nested["page"]["lines"][0]


@pytest.mark.requirement("redaction.results")
@pytest.mark.parametrize(
    "text",
    [
        "Reset your password: open Settings > Security and choose Reset.",
        "Create an API key under Developers; keys start with a prefix and are shown once.",
        "sha256 3f8d3bb05bf8275b588ac12ccea87ebc4abcae69464d0d7e3b791ea0bcf3aca3, id 44d00b8744634ca0",
        "uuid 123e4567-e89b-12d3-a456-426614174000 at 2026-10-29T09:35:41.973483+00:00",
        "server 203.0.113.7 replied; see https://docs.example.com/a/b?c=d#e and mail ops@example.com",
        "SKU ACME-401-1 and US-KIT-011; the secret to good coffee is a slow pour.",
    ],
)
def test_ordinary_text_digests_ids_and_addresses_are_left_alone(text: str) -> None:
    assert redact_text(text) is text


@pytest.mark.requirement("redaction.results")
def test_in_a_result_only_string_values_under_secret_names_are_replaced() -> None:
    value = {
        "password": "hunter2!",
        "password_length": 8,
        "next_page_token": "abc123def456",
        "items": [{"secret": None}],
    }
    assert redact_json(value) == {**value, "password": MARKER}


@pytest.mark.requirement("redaction.audit-arguments")
def test_for_the_audit_anything_under_a_secret_name_is_replaced_and_clean_values_are_not_copied() -> None:
    clean = {"query": "reset password", "limit": 5, "filters": {"tags": ["billing"]}}
    assert redact(clean) is clean
    assert redact({"session_token": "abc", "auth": {"client_secret": 42}}) == {
        "session_token": MARKER,
        "auth": {"client_secret": MARKER},
    }


@pytest.mark.requirement("redaction.results")
def test_every_detect_secrets_plugin_is_either_used_or_deliberately_left_out() -> None:
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    used = {
        "AWSKeyDetector", "AzureStorageKeyDetector", "BasicAuthDetector", "GitHubTokenDetector",
        "GitLabTokenDetector", "JwtTokenDetector", "KeywordDetector", "MailchimpDetector", "NpmDetector",
        "OpenAIDetector", "PrivateKeyDetector", "PypiTokenDetector", "SendGridDetector", "SlackDetector",
        "SquareOAuthDetector", "StripeDetector", "TwilioKeyDetector",
    }  # fmt: skip
    left_out = {
        "Base64HighEntropyString", "HexHighEntropyString", "IPPublicDetector", "ArtifactoryDetector",
        "DiscordBotTokenDetector", "TelegramBotTokenDetector", "CloudantDetector", "IbmCloudIamDetector",
        "IbmCosHmacDetector", "SoftlayerDetector",
    }  # fmt: skip
    installed = {plugin.__name__ for plugin in get_mapping_from_secret_type_to_class().values()}
    assert installed == used | left_out, "a detect-secrets upgrade changed the plugin set: decide on the new ones"


@pytest.mark.requirement("redaction.results")
def test_a_quoted_secret_inside_json_text_is_redacted_and_the_text_stays_valid_json() -> None:
    text = json.dumps({"runbook": 'set db_password = "Tr0ub4dor-harbor-77" before failover'})
    redacted = redact_text(text)
    assert "Tr0ub4dor" not in redacted
    assert json.loads(redacted) == {"runbook": 'set db_password = "[REDACTED]" before failover'}
