"""Staff pages of the Gebührensatzung: Satzungen with their tariffs, surcharges and
reductions, the town's own customer groups, and a club's group and non-profit status."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from buchung.admin import managed_resources, resource_label, resource_tree
from buchung.clock import local_today
from buchung.club_models import Club
from buchung.fees.admin import bp, office_required
from buchung.fees.forms import AdjustmentForm, ClubFeeForm, GroupForm, ScheduleForm, TariffForm
from buchung.fees.models import ClubBilling, FeeAdjustment, FeeGroup, FeeSchedule, Tariff
from buchung.fees.pricing import Pricer
from buchung.forms import GROUP_LABELS, ConfirmForm
from buchung.models import Resource
from lotse.extensions import db


def group_choices() -> list[SelectChoice]:
    """Verein, Privat, Gewerblich and the town's own groups."""
    found = [SelectChoice(k.value, label) for k, label in GROUP_LABELS.items()]
    found += [
        SelectChoice(g.key, g.name)
        for g in db.session.scalars(select(FeeGroup).order_by(FeeGroup.name))
        if g.key not in GROUP_LABELS
    ]
    return found


@bp.route("/satzungen", methods=["GET", "POST"])
@office_required
def schedules():
    """The Gebührensatzungen by date; a new one may take over the tariffs in force."""
    form = ScheduleForm()
    if form.validate_on_submit():
        taken = db.session.scalar(
            select(FeeSchedule).where(FeeSchedule.valid_from == form.valid_from.data)
        )
        if taken is not None:
            form.valid_from.errors.append(_("Ab diesem Tag gilt schon eine Satzung."))
        else:
            schedule = FeeSchedule(
                title=form.title.data.strip(),
                valid_from=form.valid_from.data,
                late_cancel_percent=form.late_cancel_percent.data,
            )
            previous = Pricer().schedule_on(form.valid_from.data)
            if form.copy.data and previous is not None:
                schedule.tariffs = [
                    Tariff(
                        resource_id=t.resource_id,
                        group_key=t.group_key,
                        unit=t.unit,
                        amount_cents=t.amount_cents,
                    )
                    for t in previous.tariffs
                ]
                schedule.adjustments = [
                    FeeAdjustment(
                        name=a.name,
                        condition=a.condition,
                        percent=a.percent,
                        amount_cents=a.amount_cents,
                    )
                    for a in previous.adjustments
                ]
            db.session.add(schedule)
            db.session.commit()
            flash(_("Die Satzung ist angelegt."), "success")
            return redirect(url_for(".schedule", schedule_id=schedule.id))
    return render_template(
        "buchung/fees/admin/schedules.html",
        form=form,
        schedules=list(
            db.session.scalars(select(FeeSchedule).order_by(FeeSchedule.valid_from.desc()))
        ),
        current=Pricer().schedule_on(local_today()),
    )


def schedule_forms(schedule: FeeSchedule) -> tuple[TariffForm, AdjustmentForm]:
    tariff_form = TariffForm(prefix="tariff")
    tariff_form.resource_id.choices = [
        SelectChoice(r.id, resource_label(r)) for r in resource_tree(managed_resources())
    ]
    tariff_form.group_key.choices = group_choices()
    return tariff_form, AdjustmentForm(prefix="adj")


@bp.route("/satzungen/<int:schedule_id>", methods=["GET", "POST"])
@office_required
def schedule(schedule_id: int):
    """One Satzung: set a tariff (hall, part or room × group), add a surcharge or reduction."""
    schedule = db.session.get(
        FeeSchedule,
        schedule_id,
        # the tariff table names each tariff's room as "Hall – Part"
        options=[
            selectinload(FeeSchedule.tariffs)
            .joinedload(Tariff.resource)
            .joinedload(Resource.parent)
        ],
    )
    if schedule is None:
        abort(404)
    tariff_form, adjustment_form = schedule_forms(schedule)
    if "tariff-amount" in request.form and tariff_form.validate_on_submit():
        tariff = next(
            (
                t
                for t in schedule.tariffs
                if t.resource_id == tariff_form.resource_id.data
                and t.group_key == tariff_form.group_key.data
            ),
            None,
        )
        if tariff is None:
            tariff = Tariff(
                resource_id=tariff_form.resource_id.data, group_key=tariff_form.group_key.data
            )
            schedule.tariffs.append(tariff)
        tariff.unit = tariff_form.unit.data
        tariff.amount_cents = tariff_form.amount.cents
        db.session.commit()
        flash(_("Der Tarif ist gespeichert."), "success")
        return redirect(url_for(".schedule", schedule_id=schedule.id))
    elif "adj-name" in request.form and adjustment_form.validate_on_submit():
        schedule.adjustments.append(
            FeeAdjustment(
                name=adjustment_form.name.data.strip(),
                condition=adjustment_form.condition.data,
                percent=adjustment_form.percent.data or 0,
                amount_cents=0 if adjustment_form.percent.data else adjustment_form.amount.cents,
            )
        )
        db.session.commit()
        flash(_("Der Zu- oder Abschlag ist gespeichert."), "success")
        return redirect(url_for(".schedule", schedule_id=schedule.id))
    return render_template(
        "buchung/fees/admin/schedule.html",
        schedule=schedule,
        tariff_form=tariff_form,
        adjustment_form=adjustment_form,
        confirm_form=ConfirmForm(),
        resource_label=resource_label,
        group_names=dict(group_choices_pairs()),
    )


def group_choices_pairs() -> list[tuple[str, str]]:
    return [(c.value, str(c.label)) for c in group_choices()]


@bp.route("/satzungen/<int:schedule_id>/entfernen/<what>/<int:row_id>", methods=["POST"])
@office_required
def schedule_remove(schedule_id: int, what: str, row_id: int):
    """Remove a tariff or a surcharge/reduction from a Satzung."""
    model = {"tarif": Tariff, "zuschlag": FeeAdjustment}.get(what)
    if model is None or not ConfirmForm().validate_on_submit():
        abort(400)
    row = db.get_or_404(model, row_id)
    if row.schedule_id != schedule_id:
        abort(404)
    db.session.delete(row)
    db.session.commit()
    flash(_("Entfernt."), "success")
    return redirect(url_for(".schedule", schedule_id=schedule_id))


@bp.route("/gruppen", methods=["GET", "POST"])
@office_required
def groups():
    """The town's own customer groups (e.g. Jugendarbeit, Schulsport: free of charge)."""
    form = GroupForm()
    if form.validate_on_submit():
        key = form.key.data.strip()
        if key in GROUP_LABELS or db.session.scalar(select(FeeGroup).where(FeeGroup.key == key)):
            form.key.errors.append(_("Diesen Kurznamen gibt es schon."))
        else:
            db.session.add(FeeGroup(key=key, name=form.name.data.strip(), free=form.free.data))
            db.session.commit()
            flash(_("Die Kundengruppe ist angelegt."), "success")
            return redirect(url_for(".groups"))
    return render_template(
        "buchung/fees/admin/groups.html",
        form=form,
        groups=list(db.session.scalars(select(FeeGroup).order_by(FeeGroup.name))),
    )


@bp.route("/verein/<int:club_id>", methods=["GET", "POST"])
@office_required
def club_fees(club_id: int):
    """A club's customer group and non-profit status, and its SEPA mandate as entered."""
    club = db.get_or_404(Club, club_id)
    billing = db.session.get(ClubBilling, club.id) or ClubBilling(club=club, group_key="club")
    form = ClubFeeForm(obj=billing)
    form.group_key.choices = group_choices()
    if form.validate_on_submit():
        billing.group_key = form.group_key.data
        billing.non_profit = form.non_profit.data
        db.session.add(billing)
        db.session.commit()
        flash(_("Gespeichert."), "success")
        return redirect(url_for(".club_fees", club_id=club.id))
    return render_template("buchung/fees/admin/club.html", club=club, billing=billing, form=form)
