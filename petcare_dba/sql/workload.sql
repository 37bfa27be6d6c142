-- The simulated clinic day on the demo database `petcare` (services/connections/workload.py).
-- Each block is one thing a clinic's front desk or manager does; the workload sends them at a
-- low rate so that Monitoring, the advisor and alerts have something real to show. Only the
-- demo database is ever touched. Statements are sent without their description comment
-- (queries.bare), so pg_stat_statements and pg_stat_activity show them as a clinic app would.

-- name: workload_session
-- Name the session and bound its waits: a stuck lock or report never outlives a few seconds.
SELECT pg_catalog.set_config('application_name', %(application_name)s, false),
       pg_catalog.set_config('lock_timeout', %(lock_timeout)s, false),
       pg_catalog.set_config('statement_timeout', %(statement_timeout)s, false);

-- name: workload_agenda
-- The front desk opens a clinic's agenda for the next two days.
SELECT a.id, a.starts_at, a.status, a.reason, p.name AS pet, v.full_name AS veterinarian
FROM public.appointments AS a
JOIN public.pets AS p ON p.id = a.pet_id
JOIN public.veterinarians AS v ON v.id = a.veterinarian_id
WHERE a.clinic_id = %(clinic)s
  AND a.starts_at >= now() AND a.starts_at < now() + interval '2 days'
  AND a.status IN ('scheduled', 'confirmed')
ORDER BY a.starts_at, a.id
LIMIT 50;

-- name: workload_book
-- A tutor books a visit: a pet and a veterinarian of the clinic, some hours ahead.
INSERT INTO public.appointments (pet_id, clinic_id, veterinarian_id, starts_at,
                                 duration_minutes, status, reason, price)
SELECT p.id, v.clinic_id, v.id,
       date_trunc('hour', now()) + (1 + %(hours)s) * interval '1 hour', 30, 'scheduled',
       'Consulta de rotina', 180.00
FROM (SELECT id FROM public.pets WHERE id >= %(pet)s ORDER BY id LIMIT 1) AS p
CROSS JOIN (SELECT id, clinic_id FROM public.veterinarians
            WHERE clinic_id = %(clinic)s AND is_active ORDER BY id LIMIT 1) AS v
RETURNING id;

-- name: workload_check_in
-- The earliest booking of a clinic is seen: the visit is completed and invoiced.
WITH done AS (
    UPDATE public.appointments AS a SET status = 'completed'
    WHERE a.id = (SELECT id FROM public.appointments
                  WHERE clinic_id = %(clinic)s AND status IN ('scheduled', 'confirmed')
                    AND starts_at >= now() - interval '1 day'
                  ORDER BY starts_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING a.id, a.pet_id, a.clinic_id, a.price
)
INSERT INTO public.invoices (number, appointment_id, tutor_id, clinic_id, issued_at, due_on,
                             subtotal, status)
SELECT 'NF-W-' || d.id, d.id, p.tutor_id, d.clinic_id, now(), current_date + 10, d.price, 'open'
FROM done AS d
JOIN public.pets AS p ON p.id = d.pet_id
ON CONFLICT DO NOTHING
RETURNING id;

-- name: workload_pay
-- A tutor pays the clinic's oldest open invoice.
WITH paid AS (
    UPDATE public.invoices AS i SET status = 'paid'
    WHERE i.id = (SELECT id FROM public.invoices
                  WHERE clinic_id = %(clinic)s AND status IN ('open', 'overdue') AND total > 0
                  ORDER BY due_on, id LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING i.id, i.total
)
INSERT INTO public.payments (invoice_id, paid_at, amount, method, transaction_id)
SELECT id, now(), total, %(method)s::public.payment_method, gen_random_uuid()
FROM paid
RETURNING id;

-- name: workload_revenue
-- The manager's report: a clinic's revenue of the last 30 days by payment method.
SELECT p.method, count(*) AS payments, sum(p.amount) AS revenue
FROM public.payments AS p
JOIN public.invoices AS i ON i.id = p.invoice_id
WHERE i.clinic_id = %(clinic)s AND p.paid_at >= now() - interval '30 days'
GROUP BY p.method
ORDER BY revenue DESC;

-- name: workload_slow_report
-- The occasional slow report: revenue per veterinarian and species over the whole history.
-- Full scans of appointments, pets and invoices on purpose: it shows up in top statements.
SELECT v.full_name, s.name AS species, count(*) AS visits, sum(i.total) AS revenue,
       avg(a.duration_minutes) AS mean_minutes,
       count(DISTINCT p.tutor_id) AS tutors
FROM public.appointments AS a
JOIN public.pets AS p ON p.id = a.pet_id
JOIN public.species AS s ON s.id = p.species_id
JOIN public.veterinarians AS v ON v.id = a.veterinarian_id
LEFT JOIN public.invoices AS i ON i.appointment_id = a.id
WHERE a.reason <> %(reason)s
GROUP BY v.full_name, s.name
ORDER BY revenue DESC NULLS LAST
LIMIT 20;

-- name: workload_lock_hold
-- A manager edits a clinic's opening hours and leaves the transaction open a few seconds.
UPDATE public.clinics SET opening_hours = opening_hours WHERE id = %(clinic)s;

-- name: workload_lock_wait
-- The front desk updates the same clinic's phone and waits for that lock.
UPDATE public.clinics SET phone = phone WHERE id = %(clinic)s;
