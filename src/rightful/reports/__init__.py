"""What Rightful reports to regulators and the privacy office: the request records a regulator
may ask for (11 CCR § 7101), the yearly metrics (§ 7102) and the morning view of the desk.

Everything here reads what happened (the requests' columns and their audit timeline) and holds
no personal data: a request is named by its reference.
"""
