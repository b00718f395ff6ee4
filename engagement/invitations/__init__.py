"""'Persuade a friend': editable content, the composed message, sending, attribution and opt-outs."""
