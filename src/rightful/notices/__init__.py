"""The privacy notice: versions, rendering, and its check against the data map."""
