"""Events, their registrations (capacity, waitlist, cancellation) and reminders."""
