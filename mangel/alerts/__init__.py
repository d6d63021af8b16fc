"""Alerts (Benachrichtigungen): anyone subscribes by e-mail, without an account, to new reports
and/or status changes around an address, in an Ortsteil or on a street, optionally for chosen
categories, at once or as a daily digest.  Double opt-in; every mail carries a one-click
unsubscribe (RFC 8058) that deletes the subscription; an Atom feed for the same selection.
"""
