"""Events in a report's life that other parts of the Mängelmelder react to.

Senders emit these inside the request's transaction, after ``flush()`` and before the
view's single ``commit()``; receivers add rows (deliveries, notifications, audit entries)
to the same session and never commit. Work that must leave the process (mail, webhooks)
is enqueued only after the commit, by ids.

- ``report_confirmed(report)``: the reporter confirmed; the report is now public and due
  for routing to its department.
- ``report_rerouted(report, reason, staff_user, department=None)``: staff forwarded the
  report to ``department``, or corrected its category or place (``department`` None: the
  routing rules decide again; the report goes on only if its department changes), or the
  reporter reopened it (``reason="reopened"``: it goes to its department again).
- ``report_status_changed(report, change)``: a public status change (``StatusChange`` row)
  the reporter and supporters should hear about.
"""

from blinker import Namespace

_signals = Namespace()

report_confirmed = _signals.signal("report-confirmed")
report_rerouted = _signals.signal("report-rerouted")
report_status_changed = _signals.signal("report-status-changed")
