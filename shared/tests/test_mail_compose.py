"""An email's subject comes from what a person typed: a line break in it must not make a
header that cannot be written (which answered 500 before)."""

from receivables_platform.mail import SmtpTarget, compose


def test_a_subject_typed_over_several_lines_is_one_header_line():
    target = SmtpTarget(host="127.0.0.1", port=25, sender="cases@receivables.test")
    message = compose(
        target, to="pat@customer.test", subject="Your credit\r\nis on its way\n", body="Hello"
    )
    assert message["Subject"] == "Your credit is on its way"
    assert b"\r\nis on its way" not in message.as_bytes()
