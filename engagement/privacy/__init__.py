"""What the platform owes the people whose data it holds (GDPR, CNIL): consent records, access and
portability, erasure, retention and the log of who looked at personal data. See docs/privacy.md."""
