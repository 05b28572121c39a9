"""One blueprint per area: auth, student, supervisor, coordinator."""
