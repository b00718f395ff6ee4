"""Local committees: proposed by members, approved by organizers, run by hosts, followed by members."""
