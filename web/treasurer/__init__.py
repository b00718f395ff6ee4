"""The treasurer's area (/tresorerie): payments, totals per month, refunds, the yearly list for the CNCCFP."""
