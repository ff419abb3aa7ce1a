"""The signed declaration asked for before specific pieces of information are released."""

DECLARATION = (
    "I declare under penalty of perjury under the laws of the State of California that I am the "
    "consumer whose personal information is the subject of this request, or that I am authorized "
    "to make this request on their behalf."
)
