-- The `petcare` demo database, part 3 of 3: constraints, indexes, statistics, views, marker.
-- Everything here runs after the load, because building an index once is a sort and validating
-- a foreign key once is a join, where maintaining them per inserted row is millions of index
-- probes. Foreign keys come last, after VACUUM ANALYZE: with statistics, the visibility map and
-- the indexes in place, each validation can be a merge join of two index-only scans.
--
-- Deliberate imperfections (a DBA tool should report these, so keep them):
--   * prescriptions.veterinarian_id references veterinarians but has no index;
--   * pets_tutor_id_idx and pets_tutor_idx are the same index on pets(tutor_id);
--   * payments_raw has no primary key (schema.sql).

-- name: add_unique_constraints
-- Unique constraints.
ALTER TABLE species ADD UNIQUE (name);
ALTER TABLE breeds ADD UNIQUE (species_id, name);
ALTER TABLE clinics ADD UNIQUE (cnpj);
ALTER TABLE tutors ADD UNIQUE (cpf);
CREATE UNIQUE INDEX tutors_email_lower_key ON tutors (lower(email));
CREATE UNIQUE INDEX pets_microchip_key ON pets (microchip) WHERE microchip IS NOT NULL;
ALTER TABLE invoices ADD UNIQUE (number), ADD UNIQUE (appointment_id);

-- name: create_people_indexes
-- Indexes on clinics, veterinarians, tutors and pets.
CREATE INDEX veterinarians_clinic_id_idx ON veterinarians (clinic_id);
CREATE INDEX veterinarians_specialties_idx ON veterinarians USING gin (specialties);
CREATE INDEX tutors_preferred_clinic_id_idx ON tutors (preferred_clinic_id);
CREATE INDEX pets_tutor_id_idx ON pets (tutor_id);
-- Deliberate duplicate of pets_tutor_id_idx ("added again by a later migration").
CREATE INDEX pets_tutor_idx ON pets (tutor_id);
CREATE INDEX pets_species_id_breed_id_idx ON pets (species_id, breed_id);
CREATE INDEX pets_breed_id_idx ON pets (breed_id);
CREATE INDEX pets_medical_notes_idx ON pets USING gin (medical_notes jsonb_path_ops);

-- name: create_appointment_indexes
-- Indexes on appointments.
-- One per foreign key, a partial one for bookings, BRIN on time.
CREATE INDEX appointments_pet_id_starts_at_idx ON appointments (pet_id, starts_at);
CREATE INDEX appointments_clinic_id_starts_at_idx ON appointments (clinic_id, starts_at);
CREATE INDEX appointments_veterinarian_id_starts_at_idx
    ON appointments (veterinarian_id, starts_at);
CREATE INDEX appointments_upcoming_idx ON appointments (starts_at)
    WHERE status IN ('scheduled', 'confirmed');
-- ids follow booking time, so a BRIN index on starts_at stays tiny and useful.
CREATE INDEX appointments_starts_at_brin ON appointments USING brin (starts_at);

-- name: create_clinical_indexes
-- Indexes on vaccinations and prescriptions.
-- prescriptions.veterinarian_id is left out on purpose.
CREATE INDEX vaccinations_pet_id_idx ON vaccinations (pet_id);
CREATE INDEX vaccinations_appointment_id_idx ON vaccinations (appointment_id);
CREATE INDEX vaccinations_veterinarian_id_idx ON vaccinations (veterinarian_id);
CREATE INDEX vaccinations_next_due_on_idx ON vaccinations (next_due_on);
CREATE INDEX prescriptions_appointment_id_idx ON prescriptions (appointment_id);
CREATE INDEX prescriptions_pet_id_idx ON prescriptions (pet_id);

-- name: create_billing_indexes
-- Indexes on invoices and payments.
CREATE INDEX invoices_tutor_id_idx ON invoices (tutor_id);
CREATE INDEX invoices_clinic_id_issued_at_idx ON invoices (clinic_id, issued_at);
CREATE INDEX invoices_open_idx ON invoices (due_on) WHERE status IN ('open', 'overdue');
CREATE INDEX payments_invoice_id_idx ON payments (invoice_id);
CREATE INDEX payments_paid_at_idx ON payments (paid_at);

-- name: vacuum_analyze
-- VACUUM and ANALYZE.
-- Sets hint bits and the visibility map and gathers statistics: stable plans and timings.
VACUUM (ANALYZE);

-- name: add_foreign_keys
-- Foreign keys.
-- Validated once each over the loaded data.
ALTER TABLE breeds ADD FOREIGN KEY (species_id) REFERENCES species (id);
ALTER TABLE veterinarians ADD FOREIGN KEY (clinic_id) REFERENCES clinics (id);
ALTER TABLE tutors ADD FOREIGN KEY (preferred_clinic_id) REFERENCES clinics (id)
    ON DELETE SET NULL;
ALTER TABLE pets
    ADD FOREIGN KEY (tutor_id) REFERENCES tutors (id) ON DELETE CASCADE,
    ADD FOREIGN KEY (species_id) REFERENCES species (id),
    ADD FOREIGN KEY (breed_id) REFERENCES breeds (id);
ALTER TABLE appointments
    ADD FOREIGN KEY (pet_id) REFERENCES pets (id),
    ADD FOREIGN KEY (clinic_id) REFERENCES clinics (id),
    ADD FOREIGN KEY (veterinarian_id) REFERENCES veterinarians (id);
ALTER TABLE vaccinations
    ADD FOREIGN KEY (pet_id) REFERENCES pets (id),
    ADD FOREIGN KEY (appointment_id) REFERENCES appointments (id),
    ADD FOREIGN KEY (veterinarian_id) REFERENCES veterinarians (id);
ALTER TABLE prescriptions
    ADD FOREIGN KEY (appointment_id) REFERENCES appointments (id),
    ADD FOREIGN KEY (pet_id) REFERENCES pets (id),
    ADD FOREIGN KEY (veterinarian_id) REFERENCES veterinarians (id);
ALTER TABLE invoices
    ADD FOREIGN KEY (appointment_id) REFERENCES appointments (id),
    ADD FOREIGN KEY (tutor_id) REFERENCES tutors (id),
    ADD FOREIGN KEY (clinic_id) REFERENCES clinics (id);
ALTER TABLE payments ADD FOREIGN KEY (invoice_id) REFERENCES invoices (id);

-- name: sync_sequences
-- Identity sequences.
-- Moved past the generated ids, so new rows can be inserted.
SELECT pg_catalog.setval(pg_catalog.pg_get_serial_sequence(t, 'id'), m)
FROM (VALUES ('clinics', (SELECT max(id) FROM clinics)),
             ('veterinarians', (SELECT max(id) FROM veterinarians)),
             ('tutors', (SELECT max(id) FROM tutors)),
             ('pets', (SELECT max(id) FROM pets)),
             ('appointments', (SELECT max(id) FROM appointments)),
             ('vaccinations', (SELECT max(id) FROM vaccinations)),
             ('prescriptions', (SELECT max(id) FROM prescriptions)),
             ('invoices', (SELECT max(id) FROM invoices)),
             ('payments', (SELECT max(id) FROM payments))) AS s (t, m)
WHERE m IS NOT NULL;

-- name: create_views
-- Views.
-- upcoming_appointments, and the monthly_revenue materialised view.
CREATE VIEW upcoming_appointments AS
SELECT a.id AS appointment_id, a.starts_at, a.status, a.reason, c.name AS clinic,
       v.full_name AS veterinarian, p.name AS pet, s.name_pt AS species,
       t.full_name AS tutor, t.phone AS tutor_phone
FROM appointments AS a
JOIN pets AS p ON p.id = a.pet_id
JOIN species AS s ON s.id = p.species_id
JOIN tutors AS t ON t.id = p.tutor_id
JOIN clinics AS c ON c.id = a.clinic_id
JOIN veterinarians AS v ON v.id = a.veterinarian_id
WHERE a.status IN ('scheduled', 'confirmed') AND a.starts_at >= now();
COMMENT ON VIEW upcoming_appointments IS
    'Scheduled and confirmed appointments from now on, with pet, tutor and clinic.';

CREATE MATERIALIZED VIEW monthly_revenue AS
SELECT i.clinic_id, c.name AS clinic,
       date_trunc('month', p.paid_at AT TIME ZONE 'America/Sao_Paulo')::date AS month,
       count(*) AS payments, sum(p.amount) AS revenue, round(avg(p.amount), 2) AS average_payment,
       sum(p.amount) FILTER (WHERE p.method = 'pix') AS revenue_pix
FROM payments AS p
JOIN invoices AS i ON i.id = p.invoice_id
JOIN clinics AS c ON c.id = i.clinic_id
GROUP BY i.clinic_id, c.name, 3;
-- Unique, so REFRESH MATERIALIZED VIEW CONCURRENTLY works.
CREATE UNIQUE INDEX monthly_revenue_clinic_id_month_key ON monthly_revenue (clinic_id, month);
COMMENT ON MATERIALIZED VIEW monthly_revenue IS
    'Revenue per clinic and month (São Paulo time); refresh after loading payments.';
ANALYZE monthly_revenue;

-- name: finish_marker
-- Finishing.
-- Record the row counts and mark the build complete.
UPDATE demo_build
SET finished_at = now(),
    row_counts = json_build_object(
        'species', (SELECT count(*) FROM species),
        'breeds', (SELECT count(*) FROM breeds),
        'clinics', (SELECT count(*) FROM clinics),
        'veterinarians', (SELECT count(*) FROM veterinarians),
        'tutors', (SELECT count(*) FROM tutors),
        'pets', (SELECT count(*) FROM pets),
        'appointments', (SELECT count(*) FROM appointments),
        'vaccinations', (SELECT count(*) FROM vaccinations),
        'prescriptions', (SELECT count(*) FROM prescriptions),
        'invoices', (SELECT count(*) FROM invoices),
        'payments', (SELECT count(*) FROM payments),
        'payments_raw', (SELECT count(*) FROM payments_raw));
