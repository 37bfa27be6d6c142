-- The `petcare` demo database, part 1 of 3: types, tables and comments.
-- Run by petcare_dba.db.demo.build_demo, block by block in file order, then data.sql and
-- indexes.sql. Only primary keys here: foreign keys, unique constraints and secondary indexes
-- come after the load (indexes.sql), which is several times faster than maintaining them row by
-- row. Blocks named setup_session and probe_* are not build steps: the builder runs them itself
-- to decide whether a build is needed at all.
--
-- Deliberate imperfections a DBA tool should find (do not "fix" them):
--   * payments_raw has no primary key (and holds a few duplicate rows);
--   * prescriptions.veterinarian_id is a foreign key without an index (indexes.sql);
--   * pets(tutor_id) is indexed twice, identically (indexes.sql).

-- name: setup_session
-- Pin the session the build runs in: our schema, the requested scale, bulk-load friendly
-- settings, and a session advisory lock so two builders on one database take turns.
SELECT pg_catalog.pg_advisory_lock(pg_catalog.hashtext('petcare_dba.demo')),
       pg_catalog.set_config('search_path', 'public', false),
       pg_catalog.set_config('petcare.demo_scale', %(scale)s, false),
       pg_catalog.set_config('petcare.demo_version', %(version)s, false),
       pg_catalog.set_config('synchronous_commit', 'off', false),
       pg_catalog.set_config('maintenance_work_mem', '256MB', false),
       pg_catalog.set_config('work_mem', '256MB', false);

-- name: probe_objects
-- Whether the build marker exists, and which demo object names are already taken.
SELECT pg_catalog.to_regclass('public.demo_build') IS NOT NULL AS has_marker,
       coalesce(pg_catalog.array_agg(taken.name ORDER BY taken.name), '{}') AS taken
FROM (SELECT c.relname::text AS name
      FROM pg_catalog.pg_class AS c
      JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace AND n.nspname = 'public'
      WHERE c.relname = ANY (ARRAY['species', 'breeds', 'clinics', 'veterinarians', 'tutors',
                                   'pets', 'appointments', 'vaccinations', 'prescriptions',
                                   'invoices', 'payments', 'payments_raw',
                                   'upcoming_appointments', 'monthly_revenue'])
      UNION ALL
      SELECT 'type ' || t.typname
      FROM pg_catalog.pg_type AS t
      JOIN pg_catalog.pg_namespace AS n ON n.oid = t.typnamespace AND n.nspname = 'public'
      WHERE t.typname = ANY (ARRAY['appointment_status', 'payment_method', 'email', 'cpf'])
     ) AS taken;

-- name: create_stat_statements
-- Statement statistics in the demo database (Monitoring › Queries, the slow-query lint): the
-- extension is not trusted, so the server's superuser runs this, not the demo's owner.
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;

-- name: probe_state
-- The marker row: scale, generator version, whether the build finished, row counts.
SELECT scale, generator_version, finished_at IS NOT NULL AS complete,
       coalesce(row_counts, '{}'::json) AS row_counts
FROM public.demo_build;

-- name: drop_demo
-- Dropping the previous build.
-- Every demo object, so a failed or outdated build can be replaced.
DROP MATERIALIZED VIEW IF EXISTS monthly_revenue;
DROP VIEW IF EXISTS upcoming_appointments;
DROP TABLE IF EXISTS payments_raw, payments, invoices, prescriptions, vaccinations, appointments,
    pets, tutors, veterinarians, clinics, breeds, species, demo_build CASCADE;
DROP TYPE IF EXISTS appointment_status, payment_method;
DROP DOMAIN IF EXISTS email, cpf;

-- name: create_marker
-- Build marker.
-- Written first and completed last: an unfinished row means a failed build.
CREATE TABLE demo_build (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    scale integer NOT NULL CHECK (scale > 0),
    generator_version integer NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    row_counts json  -- json, not jsonb: keeps the keys in table order
);
COMMENT ON TABLE demo_build IS
    'Written by petcare-dba when it generated this demo database: scale, generator version, '
    'timings and row counts. One row.';
INSERT INTO demo_build (scale, generator_version)
VALUES (pg_catalog.current_setting('petcare.demo_scale')::integer,
        pg_catalog.current_setting('petcare.demo_version')::integer);

-- name: create_types
-- Types and domains.
CREATE TYPE appointment_status AS ENUM ('scheduled', 'confirmed', 'completed', 'cancelled',
                                        'no_show');
COMMENT ON TYPE appointment_status IS 'Life cycle of an appointment.';
CREATE TYPE payment_method AS ENUM ('pix', 'credit_card', 'debit_card', 'cash', 'boleto');
COMMENT ON TYPE payment_method IS 'How a payment was made (Brazilian payment rails).';
CREATE DOMAIN email AS text CHECK (VALUE ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$');
COMMENT ON DOMAIN email IS 'An e-mail address (shape check only).';
CREATE DOMAIN cpf AS text CHECK (VALUE ~ '^\d{3}\.\d{3}\.\d{3}-\d{2}$');
COMMENT ON DOMAIN cpf IS 'Brazilian individual taxpayer number, formatted 000.000.000-00.';

-- name: create_tables
-- Tables.
-- Lookup, people, clinical and billing tables, with their comments.
CREATE TABLE species (
    id smallint PRIMARY KEY,
    name text NOT NULL,
    name_pt text NOT NULL
);
COMMENT ON TABLE species IS 'Animal species the clinics treat.';

CREATE TABLE breeds (
    id integer PRIMARY KEY,
    species_id smallint NOT NULL,
    name text NOT NULL,
    size text CHECK (size IN ('small', 'medium', 'large'))
);
COMMENT ON TABLE breeds IS 'Breeds per species; "SRD" (sem raça definida) is the mixed breed.';

CREATE TABLE clinics (
    id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    cnpj text NOT NULL,
    city text NOT NULL,
    state char(2) NOT NULL,
    address text NOT NULL,
    phone text NOT NULL,
    opened_on date NOT NULL,
    services text[] NOT NULL DEFAULT '{}',
    opening_hours jsonb NOT NULL DEFAULT '{}',
    is_active boolean NOT NULL DEFAULT true
);
COMMENT ON TABLE clinics IS 'Veterinary clinics of the PetCare network.';
COMMENT ON COLUMN clinics.cnpj IS 'Company taxpayer number (CNPJ).';
COMMENT ON COLUMN clinics.opening_hours IS
    'Opening hours per weekday, e.g. {"mon": "08:00-18:00"}.';

CREATE TABLE veterinarians (
    id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    clinic_id integer NOT NULL,
    full_name text NOT NULL,
    crmv text NOT NULL,
    email email NOT NULL,
    phone text NOT NULL,
    specialties text[] NOT NULL DEFAULT '{}',
    hired_on date NOT NULL,
    hourly_rate numeric(8, 2) NOT NULL CHECK (hourly_rate > 0),
    is_active boolean NOT NULL DEFAULT true
);
COMMENT ON TABLE veterinarians IS 'Veterinarians, each working at one clinic.';
COMMENT ON COLUMN veterinarians.crmv IS
    'Regional veterinary council registration, e.g. CRMV-SP 12345.';

CREATE TABLE tutors (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    full_name text NOT NULL,
    cpf cpf NOT NULL,
    email email NOT NULL,
    phone text NOT NULL,
    birth_date date,
    address text NOT NULL,
    city text NOT NULL,
    state char(2) NOT NULL,
    preferred_clinic_id integer,
    marketing_opt_in boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE tutors IS 'Pet owners ("tutores"): the clinics'' customers. Holds personal data.';
COMMENT ON COLUMN tutors.cpf IS 'Personal data (LGPD): taxpayer number.';

CREATE TABLE pets (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    tutor_id bigint NOT NULL,
    species_id smallint NOT NULL,
    breed_id integer,
    name text NOT NULL,
    sex char(1) NOT NULL CHECK (sex IN ('M', 'F')),
    birth_date date NOT NULL,
    weight_kg numeric(6, 2) NOT NULL CHECK (weight_kg > 0),
    neutered boolean NOT NULL DEFAULT false,
    microchip text,
    medical_notes jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE pets IS 'Animals under care; each belongs to one tutor.';
COMMENT ON COLUMN pets.breed_id IS 'NULL when the tutor did not say.';
COMMENT ON COLUMN pets.medical_notes IS 'Allergies, chronic conditions, diet: free-form JSON.';

CREATE TABLE appointments (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    pet_id bigint NOT NULL,
    clinic_id integer NOT NULL,
    veterinarian_id integer NOT NULL,
    starts_at timestamptz NOT NULL,
    duration_minutes smallint NOT NULL CHECK (duration_minutes > 0),
    status appointment_status NOT NULL DEFAULT 'scheduled',
    reason text NOT NULL,
    price numeric(10, 2) NOT NULL CHECK (price >= 0),
    notes text,
    created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE appointments IS
    'Visits booked at a clinic with a veterinarian: past and upcoming.';
COMMENT ON COLUMN appointments.price IS 'Quoted price in BRL.';

CREATE TABLE vaccinations (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    pet_id bigint NOT NULL,
    appointment_id bigint NOT NULL,
    veterinarian_id integer NOT NULL,
    vaccine text NOT NULL,
    dose_number smallint NOT NULL DEFAULT 1,
    applied_on date NOT NULL,
    valid_during daterange NOT NULL,
    next_due_on date GENERATED ALWAYS AS (upper(valid_during)) STORED,
    batch_code text NOT NULL
);
COMMENT ON TABLE vaccinations IS 'Vaccines applied during vaccination appointments.';

CREATE TABLE prescriptions (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    appointment_id bigint NOT NULL,
    pet_id bigint NOT NULL,
    veterinarian_id integer NOT NULL,
    medication text NOT NULL,
    dosage text NOT NULL,
    every_hours smallint NOT NULL,
    for_days smallint NOT NULL,
    controlled boolean NOT NULL DEFAULT false,
    instructions text,
    prescribed_at timestamptz NOT NULL
);
COMMENT ON TABLE prescriptions IS 'Medications prescribed at an appointment.';
COMMENT ON COLUMN prescriptions.controlled IS
    'Controlled substance: needs a special prescription form.';

CREATE TABLE invoices (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    number text NOT NULL,
    appointment_id bigint NOT NULL,
    tutor_id bigint NOT NULL,
    clinic_id integer NOT NULL,
    issued_at timestamptz NOT NULL,
    due_on date NOT NULL,
    subtotal numeric(12, 2) NOT NULL CHECK (subtotal >= 0),
    discount numeric(12, 2) NOT NULL DEFAULT 0 CHECK (discount >= 0),
    total numeric(12, 2) GENERATED ALWAYS AS (subtotal - discount) STORED,
    status text NOT NULL CHECK (status IN ('open', 'paid', 'overdue', 'void'))
);
COMMENT ON TABLE invoices IS 'One invoice per completed, chargeable appointment.';

CREATE TABLE payments (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    invoice_id bigint NOT NULL,
    paid_at timestamptz NOT NULL,
    amount numeric(12, 2) NOT NULL CHECK (amount > 0),
    method payment_method NOT NULL,
    installments smallint NOT NULL DEFAULT 1 CHECK (installments BETWEEN 1 AND 12),
    transaction_id uuid NOT NULL
);
COMMENT ON TABLE payments IS 'Payments received against invoices; an invoice may be paid in parts.';

CREATE TABLE payments_raw (
    received_at timestamptz NOT NULL,
    gateway text NOT NULL,
    event text NOT NULL,
    external_id text NOT NULL,
    payload jsonb NOT NULL,
    processed boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE payments_raw IS
    'Payment-gateway webhook events as received, kept for reconciliation (retries included).';
