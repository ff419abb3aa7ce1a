"""California's Delete Request and Opt-out Platform (DROP): lists in, statuses out."""
