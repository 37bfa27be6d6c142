-- The `petcare` demo database, part 2 of 3: set-based, deterministic data generation.
-- Every row comes from an INSERT ... SELECT over generate_series on the server: nothing crosses
-- the wire and nothing runs row by row. Values that look random are derived from the row number
-- with pg_catalog.hashint8, never random(): hashint8 is stable (hash partitioning depends on it),
-- so the same scale always gives the same data, whatever plan or parallelism PostgreSQL picks.
-- Sizes scale linearly with the setting petcare.demo_scale (set by setup_session in
-- schema.sql): at scale 1 appointments, the largest table, has 100,000 rows; at 100, ten million.
-- Dates are anchored on a fixed "today" (2026-12-01, pg_temp.as_of) for the same reason: three
-- years of history before it, six months of bookings after it.

-- name: create_helpers
-- Generator functions.
-- Session-local (pg_temp: gone when the build's connection closes). All are single-expression
-- SQL functions, which the planner inlines (no per-row call cost) as long as an IMMUTABLE body
-- calls only immutable functions: hence `::text` before every `||`, since `text || bigint` is
-- only stable.
CREATE FUNCTION pg_temp.h(i bigint, salt integer) RETURNS bigint
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT pg_catalog.hashint8(i * 1000 + salt)::bigint + 2147483648 $$;
-- A pseudo-random integer in [0, m), fixed by (i, salt).
CREATE FUNCTION pg_temp.pick(i bigint, salt integer, m bigint) RETURNS bigint
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT pg_temp.h(i, salt) % m $$;
-- The k-th item of a pool, wrapping around.
CREATE FUNCTION pg_temp.pool(k bigint, items text[]) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT items[1 + k % pg_catalog.cardinality(items)] $$;
-- Row count of a scaled table.
CREATE FUNCTION pg_temp.n(what text) RETURNS bigint
    LANGUAGE sql STABLE
    AS $$ SELECT pg_catalog.current_setting('petcare.demo_scale')::bigint * CASE what
            WHEN 'clinics' THEN 20 WHEN 'veterinarians' THEN 160 WHEN 'tutors' THEN 25000
            WHEN 'pets' THEN 40000 WHEN 'appointments' THEN 100000 END $$;
CREATE FUNCTION pg_temp.history_start() RETURNS date
    LANGUAGE sql IMMUTABLE AS $$ SELECT date '2023-12-01' $$;
CREATE FUNCTION pg_temp.as_of() RETURNS date
    LANGUAGE sql IMMUTABLE AS $$ SELECT date '2026-12-01' $$;
CREATE FUNCTION pg_temp.horizon() RETURNS date
    LANGUAGE sql IMMUTABLE AS $$ SELECT date '2027-06-01' $$;
-- Relationships as formulas, so later inserts need no join to find them.
CREATE FUNCTION pg_temp.pet_tutor(pet bigint) RETURNS bigint
    LANGUAGE sql STABLE AS $$ SELECT pg_temp.pick(pet, 1, pg_temp.n('tutors')) + 1 $$;
CREATE FUNCTION pg_temp.tutor_clinic(tutor bigint) RETURNS bigint
    LANGUAGE sql STABLE AS $$ SELECT pg_temp.pick(tutor, 2, pg_temp.n('clinics')) + 1 $$;
-- Species mix of a Brazilian clinic: 55% dogs, 33% cats, then birds, rabbits, hamsters, reptiles.
CREATE FUNCTION pg_temp.pet_species(pet bigint) RETURNS integer
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT CASE WHEN pg_temp.pick(pet, 71, 100) < 55 THEN 1
                      WHEN pg_temp.pick(pet, 71, 100) < 88 THEN 2
                      WHEN pg_temp.pick(pet, 71, 100) < 93 THEN 3
                      WHEN pg_temp.pick(pet, 71, 100) < 96 THEN 4
                      WHEN pg_temp.pick(pet, 71, 100) < 98 THEN 5 ELSE 6 END $$;
CREATE FUNCTION pg_temp.phone(i bigint, salt integer, ddd text) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT '(' || ddd || ') 9' || lpad(pg_temp.pick(i, salt, 10000)::text, 4, '0') || '-'
                 || lpad(pg_temp.pick(i, salt + 1, 10000)::text, 4, '0') $$;
CREATE FUNCTION pg_temp.first_name(k bigint) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT pg_temp.pool(k, ARRAY[
        'Ana', 'Maria', 'João', 'José', 'Pedro', 'Lucas', 'Gabriel', 'Rafael', 'Mariana',
        'Juliana', 'Fernanda', 'Camila', 'Beatriz', 'Larissa', 'Amanda', 'Letícia', 'Bruna',
        'Carolina', 'Patrícia', 'Aline', 'Vanessa', 'Luana', 'Isabela', 'Sofia', 'Alice', 'Helena',
        'Valentina', 'Laura', 'Manuela', 'Júlia', 'Heloísa', 'Lorena', 'Lívia', 'Cecília',
        'Eduarda', 'Rodrigo', 'Thiago', 'Felipe', 'Bruno', 'Gustavo', 'Leonardo', 'Matheus',
        'Guilherme', 'Diego', 'Vinícius', 'Marcelo', 'André', 'Carlos', 'Paulo', 'Ricardo',
        'Fábio', 'Daniel', 'Eduardo', 'Henrique', 'Miguel', 'Arthur', 'Heitor', 'Bernardo', 'Davi',
        'Samuel', 'Enzo', 'Otávio', 'Caio', 'Renato', 'Sérgio', 'Antônio', 'Francisco', 'Luiz',
        'Raimundo', 'Sebastião', 'Conceição', 'Francisca', 'Adriana', 'Márcia', 'Sandra',
        'Cláudia', 'Tatiane', 'Priscila', 'Raquel', 'Simone']) $$;
CREATE FUNCTION pg_temp.surname(k bigint) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT pg_temp.pool(k, ARRAY[
        'Silva', 'Santos', 'Oliveira', 'Souza', 'Rodrigues', 'Ferreira', 'Alves', 'Pereira',
        'Lima', 'Gomes', 'Costa', 'Ribeiro', 'Martins', 'Carvalho', 'Almeida', 'Lopes', 'Soares',
        'Fernandes', 'Vieira', 'Barbosa', 'Rocha', 'Dias', 'Nascimento', 'Andrade', 'Moreira',
        'Nunes', 'Marques', 'Machado', 'Mendes', 'Freitas', 'Cardoso', 'Ramos', 'Gonçalves',
        'Santana', 'Teixeira', 'Araújo', 'Pinto', 'Correia', 'Cavalcanti', 'Monteiro', 'Moura',
        'Batista', 'Campos', 'Rezende', 'Castro', 'Azevedo', 'Fonseca', 'Borges', 'Siqueira',
        'Xavier', 'Pires', 'Mello', 'Bezerra', 'Coelho', 'Brandão', 'Farias', 'Peixoto', 'Queiroz',
        'Tavares', 'Prado']) $$;
-- 'City|UF|area code'.
CREATE FUNCTION pg_temp.city(k bigint) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT pg_temp.pool(k, ARRAY[
        'São Paulo|SP|11', 'Rio de Janeiro|RJ|21', 'Belo Horizonte|MG|31', 'Curitiba|PR|41',
        'Porto Alegre|RS|51', 'Salvador|BA|71', 'Recife|PE|81', 'Fortaleza|CE|85',
        'Brasília|DF|61', 'Campinas|SP|19', 'Florianópolis|SC|48', 'Goiânia|GO|62',
        'Santos|SP|13', 'Niterói|RJ|21', 'Ribeirão Preto|SP|16', 'Uberlândia|MG|34',
        'Londrina|PR|43', 'Joinville|SC|47', 'Belém|PA|91', 'Manaus|AM|92', 'Vitória|ES|27',
        'Natal|RN|84', 'São Luís|MA|98', 'Campo Grande|MS|67']) $$;
CREATE FUNCTION pg_temp.street(i bigint, salt integer) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT pg_temp.pool(pg_temp.h(i, salt), ARRAY[
        'Rua das Flores', 'Avenida Paulista', 'Rua XV de Novembro', 'Avenida Brasil',
        'Rua São José', 'Rua Sete de Setembro', 'Avenida Getúlio Vargas', 'Rua Tiradentes',
        'Rua Dom Pedro II', 'Avenida Atlântica', 'Rua das Palmeiras', 'Rua Santa Catarina',
        'Avenida Rio Branco', 'Rua Marechal Deodoro', 'Rua Barão do Rio Branco',
        'Avenida Amazonas', 'Rua dos Andradas', 'Rua Bahia', 'Rua Voluntários da Pátria',
        'Avenida Independência']) || ', ' || (1 + pg_temp.pick(i, salt + 1, 2500))::text $$;
-- Lower case, no accents, for e-mail addresses.
CREATE FUNCTION pg_temp.slug(t text) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT translate(lower(t), 'áàâãéêíóôõúüç ', 'aaaaeeiooouuc.') $$;

-- name: load_lookups
-- Species and breeds.
-- Fixed size; breed ids are contiguous per species.
INSERT INTO species (id, name, name_pt) VALUES
    (1, 'dog', 'Cão'), (2, 'cat', 'Gato'), (3, 'bird', 'Ave'), (4, 'rabbit', 'Coelho'),
    (5, 'hamster', 'Hamster'), (6, 'reptile', 'Réptil');
INSERT INTO breeds (id, species_id, name, size) VALUES
    (1, 1, 'SRD', 'medium'), (2, 1, 'Shih Tzu', 'small'), (3, 1, 'Yorkshire Terrier', 'small'),
    (4, 1, 'Poodle', 'small'), (5, 1, 'Lhasa Apso', 'small'), (6, 1, 'Spitz Alemão', 'small'),
    (7, 1, 'Buldogue Francês', 'small'), (8, 1, 'Pinscher', 'small'),
    (9, 1, 'Dachshund', 'small'), (10, 1, 'Maltês', 'small'), (11, 1, 'Beagle', 'medium'),
    (12, 1, 'Border Collie', 'medium'), (13, 1, 'Schnauzer', 'medium'), (14, 1, 'Pug', 'small'),
    (15, 1, 'Golden Retriever', 'large'), (16, 1, 'Labrador Retriever', 'large'),
    (17, 1, 'Pastor Alemão', 'large'), (18, 1, 'Rottweiler', 'large'),
    (19, 2, 'SRD', 'small'), (20, 2, 'Siamês', 'small'), (21, 2, 'Persa', 'small'),
    (22, 2, 'Maine Coon', 'medium'), (23, 2, 'Angorá', 'small'), (24, 2, 'Sphynx', 'small'),
    (25, 2, 'British Shorthair', 'small'), (26, 2, 'Ragdoll', 'medium'),
    (27, 3, 'Calopsita', NULL), (28, 3, 'Periquito-australiano', NULL),
    (29, 3, 'Canário-belga', NULL), (30, 3, 'Papagaio-verdadeiro', NULL),
    (31, 4, 'Mini Lop', NULL), (32, 4, 'Lionhead', NULL), (33, 4, 'Fuzzy Lop', NULL),
    (34, 5, 'Sírio', NULL), (35, 5, 'Anão-russo', NULL),
    (36, 6, 'Jabuti-piranga', NULL), (37, 6, 'Gecko-leopardo', NULL),
    (38, 6, 'Iguana-verde', NULL);

-- name: load_clinics
-- Clinics and veterinarians.
-- 20 clinics per scale unit, 8 veterinarians per clinic.
INSERT INTO clinics (id, name, cnpj, city, state, address, phone, opened_on, services,
                     opening_hours, is_active)
SELECT c, 'PetCare ' || pg_temp.pool(c - 1, ARRAY[
           'Centro', 'Jardins', 'Vila Mariana', 'Boa Viagem', 'Batel', 'Savassi', 'Moinhos',
           'Pituba', 'Meireles', 'Asa Sul', 'Copacabana', 'Tijuca', 'Pinheiros', 'Moema', 'Lagoa',
           'Trindade', 'Cambuí', 'Gonzaga', 'Aldeota', 'Barra'])
           || ' ' || split_part(pg_temp.city(c), '|', 1),
       -- 3^18 is coprime with 10^8, so c -> base is a bijection: CNPJs are unique.
       to_char((c * 387420489) % 100000000, 'FM00"."000"."000') || '/0001-'
           || lpad(pg_temp.pick(c, 10, 100)::text, 2, '0'),
       split_part(pg_temp.city(c), '|', 1), split_part(pg_temp.city(c), '|', 2),
       pg_temp.street(c, 11), pg_temp.phone(c, 13, split_part(pg_temp.city(c), '|', 3)),
       date '2005-01-01' + pg_temp.pick(c, 15, 6500)::integer,
       ARRAY['consultas', 'vacinação', 'exames']
           || CASE WHEN pg_temp.pick(c, 16, 3) > 0 THEN ARRAY['cirurgia'] ELSE '{}' END
           || CASE WHEN pg_temp.pick(c, 17, 2) = 0 THEN ARRAY['banho e tosa'] ELSE '{}' END
           || CASE WHEN pg_temp.pick(c, 18, 4) = 0 THEN ARRAY['internação 24h'] ELSE '{}' END,
       jsonb_build_object('mon', '08:00-19:00', 'tue', '08:00-19:00', 'wed', '08:00-19:00',
                          'thu', '08:00-19:00', 'fri', '08:00-19:00',
                          'sat', CASE WHEN pg_temp.pick(c, 19, 3) > 0 THEN '08:00-13:00' END,
                          'emergency_24h', pg_temp.pick(c, 18, 4) = 0),
       pg_temp.pick(c, 20, 25) > 0
FROM generate_series(1, pg_temp.n('clinics')) AS g(c);

INSERT INTO veterinarians (id, clinic_id, full_name, crmv, email, phone, specialties, hired_on,
                           hourly_rate, is_active)
SELECT v, c.id, nm.first || ' ' || nm.last,
       'CRMV-' || c.state || ' ' || (10000 + pg_temp.pick(v, 32, 90000)),
       pg_temp.slug(nm.first || '.' || nm.last) || v || '@petcare.vet.br',
       pg_temp.phone(v, 33, split_part(pg_temp.city(c.id), '|', 3)),
       ARRAY[pg_temp.pool(pg_temp.h(v, 35), sp.items)]
           || CASE WHEN pg_temp.pick(v, 36, 10) < 4
                   THEN ARRAY[pg_temp.pool(pg_temp.h(v, 35) + 1 + pg_temp.pick(v, 37, 10),
                                           sp.items)]
                   ELSE '{}' END,
       -- Hired before the history starts, so every vet may appear on every appointment.
       greatest(c.opened_on, date '2010-01-01') + pg_temp.pick(
           v, 38, pg_temp.history_start() - greatest(c.opened_on, date '2010-01-01'))::integer,
       80 + pg_temp.pick(v, 39, 17000) / 100.0,
       pg_temp.pick(v, 40, 25) > 0
FROM generate_series(1, pg_temp.n('veterinarians')) AS g(v)
JOIN clinics AS c ON c.id = (v - 1) / 8 + 1
CROSS JOIN LATERAL (SELECT pg_temp.first_name(pg_temp.h(v, 30)) AS first,
                           pg_temp.surname(pg_temp.h(v, 31)) AS last) AS nm
CROSS JOIN (SELECT ARRAY['Clínica geral', 'Dermatologia', 'Cardiologia', 'Ortopedia',
                         'Oftalmologia', 'Oncologia', 'Odontologia', 'Animais silvestres',
                         'Felinos', 'Anestesiologia', 'Diagnóstico por imagem',
                         'Neurologia'] AS items) AS sp;

-- name: load_tutors
-- Tutors.
-- 25,000 per scale unit, with valid CPF check digits and unique e-mails.
INSERT INTO tutors (id, full_name, cpf, email, phone, birth_date, address, city, state,
                    preferred_clinic_id, marketing_opt_in, created_at)
SELECT t, nm.first || ' ' || nm.last
           || CASE WHEN pg_temp.pick(t, 52, 10) < 4 THEN ' ' || pg_temp.surname(pg_temp.h(t, 53))
                   ELSE '' END,
       to_char(b.base, 'FM000"."000"."000') || '-' || d1.dv1::text
           || ((s.s2 + d1.dv1 * 2) * 10 % 11 % 10)::text,
       pg_temp.slug(nm.first) || CASE pg_temp.pick(t, 54, 3) WHEN 0 THEN '.' WHEN 1 THEN '_'
                                                              ELSE '' END
           || pg_temp.slug(nm.last) || t || '@' || pg_temp.pool(pg_temp.h(t, 55), ARRAY[
               'gmail.com', 'hotmail.com', 'outlook.com', 'yahoo.com.br', 'uol.com.br',
               'bol.com.br', 'terra.com.br', 'icloud.com']),
       pg_temp.phone(t, 56, split_part(pg_temp.city(home.city_k), '|', 3)),
       CASE WHEN pg_temp.pick(t, 58, 20) > 0
            THEN date '1950-01-01' + pg_temp.pick(t, 59, 18250)::integer END,
       pg_temp.street(t, 60),
       split_part(pg_temp.city(home.city_k), '|', 1),
       split_part(pg_temp.city(home.city_k), '|', 2),
       home.clinic,
       pg_temp.pick(t, 62, 100) < 35,
       (date '2018-01-01' + pg_temp.pick(t, 63, 2160)::integer + time '08:00'
           + pg_temp.pick(t, 64, 720) * interval '1 minute') AT TIME ZONE 'America/Sao_Paulo'
FROM generate_series(1, pg_temp.n('tutors')) AS g(t)
CROSS JOIN LATERAL (SELECT pg_temp.first_name(pg_temp.h(t, 50)) AS first,
                           pg_temp.surname(pg_temp.h(t, 51)) AS last) AS nm
CROSS JOIN LATERAL (SELECT pg_temp.tutor_clinic(t) AS clinic,
                           -- Most tutors live in their clinic's city (clinic c is in city(c)).
                           CASE WHEN pg_temp.pick(t, 61, 10) > 0 THEN pg_temp.tutor_clinic(t)
                                ELSE pg_temp.h(t, 65) END AS city_k) AS home
-- 3^18 is coprime with 10^9, so t -> base is a bijection: CPFs are unique.
CROSS JOIN LATERAL (SELECT (t * 387420489) % 1000000000 AS base) AS b
CROSS JOIN LATERAL (
    SELECT (b.base / 100000000) % 10 * 10 + (b.base / 10000000) % 10 * 9
           + (b.base / 1000000) % 10 * 8 + (b.base / 100000) % 10 * 7
           + (b.base / 10000) % 10 * 6 + (b.base / 1000) % 10 * 5 + (b.base / 100) % 10 * 4
           + (b.base / 10) % 10 * 3 + b.base % 10 * 2 AS s1,
           (b.base / 100000000) % 10 * 11 + (b.base / 10000000) % 10 * 10
           + (b.base / 1000000) % 10 * 9 + (b.base / 100000) % 10 * 8
           + (b.base / 10000) % 10 * 7 + (b.base / 1000) % 10 * 6 + (b.base / 100) % 10 * 5
           + (b.base / 10) % 10 * 4 + b.base % 10 * 3 AS s2) AS s
CROSS JOIN LATERAL (SELECT s.s1 * 10 % 11 % 10 AS dv1) AS d1;

-- name: load_pets
-- Pets.
-- 40,000 per scale unit, weights per species.
INSERT INTO pets (id, tutor_id, species_id, breed_id, name, sex, birth_date, weight_kg,
                  neutered, microchip, medical_notes, created_at)
SELECT p, pg_temp.pet_tutor(p), sp.id,
       CASE WHEN pg_temp.pick(p, 72, 100) < 3 THEN NULL
            WHEN sp.id = 1 AND pg_temp.pick(p, 73, 100) < 30 THEN 1
            WHEN sp.id = 1 THEN 2 + pg_temp.pick(p, 74, 17)
            WHEN sp.id = 2 AND pg_temp.pick(p, 73, 100) < 55 THEN 19
            WHEN sp.id = 2 THEN 20 + pg_temp.pick(p, 74, 7)
            WHEN sp.id = 3 THEN 27 + pg_temp.pick(p, 74, 4)
            WHEN sp.id = 4 THEN 31 + pg_temp.pick(p, 74, 3)
            WHEN sp.id = 5 THEN 34 + pg_temp.pick(p, 74, 2)
            ELSE 36 + pg_temp.pick(p, 74, 3) END,
       pg_temp.pool(pg_temp.h(p, 75), ARRAY[
           'Thor', 'Mel', 'Luna', 'Bob', 'Pipoca', 'Nina', 'Belinha', 'Fred', 'Amora', 'Simba',
           'Lola', 'Bidu', 'Pandora', 'Max', 'Meg', 'Zeus', 'Frida', 'Paçoca', 'Toby', 'Jade',
           'Sofia', 'Luke', 'Maya', 'Chico', 'Lili', 'Theo', 'Pretinha', 'Nick', 'Billy', 'Kiara',
           'Bento', 'Mia', 'Tobias', 'Cacau', 'Lupi', 'Costelinha', 'Scooby', 'Branquinha',
           'Bolinha', 'Duque', 'Faísca', 'Gaia', 'Hércules', 'Ísis', 'Jujuba', 'Kira', 'Lua',
           'Marley', 'Nala', 'Oreo', 'Pingo', 'Quindim', 'Rex', 'Safira', 'Tequila', 'Uva',
           'Biscoito', 'Xuxa', 'Zara', 'Brisa', 'Caramelo', 'Dengo', 'Estrela', 'Fumaça']),
       CASE WHEN pg_temp.pick(p, 76, 2) = 0 THEN 'M' ELSE 'F' END,
       pg_temp.as_of() - (120 + pg_temp.pick(p, 77, 5400))::integer,
       (CASE sp.id WHEN 1 THEN 2000 + pg_temp.pick(p, 78, 38000)
                   WHEN 2 THEN 2500 + pg_temp.pick(p, 78, 4500)
                   WHEN 3 THEN 30 + pg_temp.pick(p, 78, 470)
                   WHEN 4 THEN 800 + pg_temp.pick(p, 78, 2700)
                   WHEN 5 THEN 30 + pg_temp.pick(p, 78, 170)
                   ELSE 300 + pg_temp.pick(p, 78, 4700) END) / 1000.0,
       pg_temp.pick(p, 79, 100) < 55,
       -- 2654435761 is coprime with 10^11, so microchip numbers are unique.
       CASE WHEN sp.id <= 2 AND pg_temp.pick(p, 80, 100) < 40
            THEN '9860' || lpad(((p * 2654435761) % 100000000000)::text, 11, '0') END,
       CASE pg_temp.pick(p, 81, 10)
           WHEN 0 THEN jsonb_build_object('allergies', jsonb_build_array(al.item))
           WHEN 1 THEN jsonb_build_object('chronic', jsonb_build_array(ch.item),
                                          'diet', pg_temp.pool(pg_temp.h(p, 84), ARRAY[
                                              'ração renal', 'ração hipoalergênica',
                                              'ração light', 'alimentação natural']))
           WHEN 2 THEN jsonb_build_object('allergies', jsonb_build_array(al.item),
                                          'chronic', jsonb_build_array(ch.item),
                                          'medication_in_use', true)
           ELSE '{}'::jsonb END,
       (date '2019-01-01' + pg_temp.pick(p, 85, 1790)::integer + time '08:00'
           + pg_temp.pick(p, 86, 600) * interval '1 minute') AT TIME ZONE 'America/Sao_Paulo'
FROM generate_series(1, pg_temp.n('pets')) AS g(p)
CROSS JOIN LATERAL (SELECT pg_temp.pet_species(p) AS id) AS sp
CROSS JOIN LATERAL (SELECT pg_temp.pool(pg_temp.h(p, 82), ARRAY[
    'frango', 'carne bovina', 'pulgas (DAPP)', 'dipirona', 'penicilina', 'pólen', 'ácaros',
    'soja', 'trigo', 'lactose']) AS item) AS al
CROSS JOIN LATERAL (SELECT pg_temp.pool(pg_temp.h(p, 83), ARRAY[
    'doença renal crônica', 'diabetes', 'cardiopatia', 'displasia coxofemoral',
    'dermatite atópica', 'otite recorrente', 'hipotireoidismo', 'epilepsia', 'obesidade',
    'artrose']) AS item) AS ch;

-- name: load_appointments
-- Appointments.
-- 100,000 per scale unit, ids in time order across the whole window.
WITH reason (k, name, base_cents, minutes) AS (
    VALUES (0, 'Consulta de rotina', 15000, 30), (1, 'Vacinação', 9000, 20),
           (2, 'Retorno', 0, 20), (3, 'Exames laboratoriais', 25000, 30),
           (4, 'Banho e tosa', 8000, 60), (5, 'Emergência', 40000, 60),
           (6, 'Cirurgia', 180000, 120), (7, 'Castração', 90000, 90)
)
INSERT INTO appointments (id, pet_id, clinic_id, veterinarian_id, starts_at, duration_minutes,
                          status, reason, price, notes, created_at)
SELECT a.i, a.pet, a.clinic, (a.clinic - 1) * 8 + 1 + pg_temp.pick(a.i, 93, 8),
       a.local_start AT TIME ZONE 'America/Sao_Paulo', r.minutes,
       -- Typed literals, not a cast of the CASE: that would parse the enum label on every row.
       CASE WHEN a.local_start < pg_temp.as_of() THEN
                CASE WHEN pg_temp.pick(a.i, 94, 100) < 85 THEN 'completed'::appointment_status
                     WHEN pg_temp.pick(a.i, 94, 100) < 93 THEN 'cancelled'::appointment_status
                     ELSE 'no_show'::appointment_status END
            WHEN pg_temp.pick(a.i, 94, 100) < 60 THEN 'scheduled'::appointment_status
            ELSE 'confirmed'::appointment_status END,
       r.name, (r.base_cents * (90 + pg_temp.pick(a.i, 95, 31)) / 100) / 100.0,
       CASE WHEN pg_temp.pick(a.i, 96, 4) = 0 THEN pg_temp.pool(pg_temp.h(a.i, 97), ARRAY[
           'Animal agitado, usar focinheira', 'Tutor relata perda de apetite',
           'Trazer exames anteriores', 'Retorno em 15 dias', 'Jejum de 12 horas',
           'Pet idoso, atenção à anestesia', 'Tutor pediu orçamento', 'Vômito há dois dias',
           'Coceira intensa', 'Mancando da pata traseira']) END,
       -- Booked 1-30 days ahead, and never after "today".
       (least(a.local_start - (1 + pg_temp.pick(a.i, 98, 30)) * interval '1 day',
              pg_temp.as_of() - pg_temp.pick(a.i, 102, 90) * interval '1 day')
           - pg_temp.pick(a.i, 99, 600) * interval '1 minute') AT TIME ZONE 'America/Sao_Paulo'
FROM (
    SELECT g.i, pet.id AS pet,
           -- Mostly the tutor's preferred clinic.
           CASE WHEN pg_temp.pick(g.i, 91, 10) > 0
                THEN pg_temp.tutor_clinic(pg_temp.pet_tutor(pet.id))
                ELSE pg_temp.pick(g.i, 92, pg_temp.n('clinics')) + 1 END AS clinic,
           pg_temp.history_start()
               + ((g.i - 1) * (pg_temp.horizon() - pg_temp.history_start())
                  / pg_temp.n('appointments'))::integer
               + (8 + pg_temp.pick(g.i, 100, 10)) * interval '1 hour'
               + 15 * pg_temp.pick(g.i, 101, 4) * interval '1 minute' AS local_start,
           CASE WHEN pg_temp.pick(g.i, 90, 100) < 30 THEN 0
                WHEN pg_temp.pick(g.i, 90, 100) < 52 THEN 1
                WHEN pg_temp.pick(g.i, 90, 100) < 67 THEN 2
                WHEN pg_temp.pick(g.i, 90, 100) < 77 THEN 3
                WHEN pg_temp.pick(g.i, 90, 100) < 87 THEN 4
                WHEN pg_temp.pick(g.i, 90, 100) < 93 THEN 5
                WHEN pg_temp.pick(g.i, 90, 100) < 97 THEN 6 ELSE 7 END AS k
    FROM generate_series(1, pg_temp.n('appointments')) AS g(i)
    CROSS JOIN LATERAL (SELECT pg_temp.pick(g.i, 89, pg_temp.n('pets')) + 1 AS id) AS pet
    OFFSET 0  -- an optimisation fence: compute each column once, not once per use above
) AS a
JOIN reason AS r ON r.k = a.k;

-- name: vacuum_appointments
-- Vacuuming appointments.
-- Straight after the load, for the steps that read it: VACUUM sets hint bits and the visibility
-- map in one pass (otherwise every first reader dirties each page again, WAL-logged when data
-- checksums are on, as initdb does by default since PostgreSQL 18), and ANALYZE lets them plan
-- an ordered index scan for row_number() instead of a sort that spills.
VACUUM (ANALYZE) appointments;

-- name: load_vaccinations
-- Vaccinations.
-- One or two per completed vaccination visit of a dog, cat or rabbit.
INSERT INTO vaccinations (id, pet_id, appointment_id, veterinarian_id, vaccine, dose_number,
                          applied_on, valid_during, batch_code)
SELECT row_number() OVER (ORDER BY a.id, d.k), a.pet_id, a.id, a.veterinarian_id,
       CASE a.species
           WHEN 1 THEN pg_temp.pool(pg_temp.h(a.id, 110) + d.k, ARRAY[
               'V10 (polivalente)', 'Antirrábica', 'Gripe canina', 'Giárdia', 'Leishmaniose'])
           WHEN 2 THEN pg_temp.pool(pg_temp.h(a.id, 110) + d.k, ARRAY[
               'V4 (quádrupla felina)', 'V5 (quíntupla felina)', 'Antirrábica', 'FeLV'])
           WHEN 4 THEN pg_temp.pool(pg_temp.h(a.id, 110) + d.k, ARRAY[
               'Mixomatose', 'Doença hemorrágica viral']) END,
       1 + pg_temp.pick(a.id, 111 + d.k, 3),
       a.applied_on, daterange(a.applied_on, a.applied_on + 365),
       'L' || to_char(a.applied_on::timestamp, 'YYMM')
           || lpad(pg_temp.pick(a.id, 114, 10000)::text, 4, '0')
FROM (SELECT id, pet_id, veterinarian_id, pg_temp.pet_species(pet_id) AS species,
             (starts_at AT TIME ZONE 'America/Sao_Paulo')::date AS applied_on
      FROM appointments
      WHERE reason = 'Vacinação' AND status = 'completed') AS a
CROSS JOIN LATERAL generate_series(1, 1 + pg_temp.pick(a.id, 115, 2)::integer) AS d(k)
WHERE a.species IN (1, 2, 4);

-- name: load_prescriptions
-- Prescriptions.
-- For 60% of completed clinical appointments, one or two medications each.
WITH medication (k, name, dosage, every_hours, controlled) AS (
    VALUES (0, 'Amoxicilina + clavulanato', '250 mg', 12, false),
           (1, 'Meloxicam', '0,1 mg/kg', 24, false), (2, 'Dipirona', '25 mg/kg', 8, false),
           (3, 'Prednisolona', '1 mg/kg', 24, false), (4, 'Omeprazol', '1 mg/kg', 24, false),
           (5, 'Cefalexina', '30 mg/kg', 12, false), (6, 'Tramadol', '2 mg/kg', 8, true),
           (7, 'Metronidazol', '15 mg/kg', 12, false), (8, 'Gabapentina', '10 mg/kg', 12, true),
           (9, 'Furosemida', '2 mg/kg', 12, false), (10, 'Enrofloxacino', '5 mg/kg', 24, false),
           (11, 'Ondansetrona', '0,5 mg/kg', 12, false),
           (12, 'Cetoconazol', '10 mg/kg', 24, false), (13, 'Fenobarbital', '2,5 mg/kg', 12, true)
)
INSERT INTO prescriptions (id, appointment_id, pet_id, veterinarian_id, medication, dosage,
                           every_hours, for_days, controlled, instructions, prescribed_at)
SELECT row_number() OVER (ORDER BY a.id, d.k), a.id, a.pet_id, a.veterinarian_id, m.name,
       m.dosage, m.every_hours, 3 + pg_temp.pick(a.id, 121 + d.k, 12), m.controlled,
       CASE WHEN pg_temp.pick(a.id, 124 + d.k, 3) > 0 THEN pg_temp.pool(pg_temp.h(a.id, 126), ARRAY[
           'Dar após a refeição', 'Não interromper antes do fim do tratamento',
           'Misturar ao alimento úmido', 'Oferecer com petisco', 'Suspender se houver vômito'])
       END,
       a.starts_at + a.duration_minutes * interval '1 minute'
FROM appointments AS a
CROSS JOIN LATERAL generate_series(1, 1 + pg_temp.pick(a.id, 120, 2)::integer) AS d(k)
JOIN medication AS m ON m.k = (pg_temp.pick(a.id, 127, 14) + d.k) % 14
WHERE a.status = 'completed'
  AND a.reason IN ('Consulta de rotina', 'Retorno', 'Emergência', 'Cirurgia', 'Castração')
  AND pg_temp.pick(a.id, 128, 100) < 60;

-- name: load_invoices
-- Invoices.
-- One per completed appointment with a price; a few void, recent ones still open.
INSERT INTO invoices (id, number, appointment_id, tutor_id, clinic_id, issued_at, due_on,
                      subtotal, discount, status)
SELECT a.n,
       'NF-' || date_part('year', a.issued_local)::integer::text || '-' || lpad(a.n::text, 9, '0'),
       a.id,
       pg_temp.pet_tutor(a.pet_id), a.clinic_id, a.issued_local AT TIME ZONE 'America/Sao_Paulo',
       a.issued_local::date + 10, a.price,
       CASE WHEN pg_temp.pick(a.id, 130, 10) = 0
            THEN round(a.price * (5 + pg_temp.pick(a.id, 131, 11)) / 100, 2) ELSE 0 END,
       CASE WHEN pg_temp.pick(a.id, 132, 100) = 0 THEN 'void'
            WHEN a.issued_local >= pg_temp.as_of() - 15 AND pg_temp.pick(a.id, 133, 2) = 0
                THEN 'open'
            WHEN a.issued_local < pg_temp.as_of() - 15 AND pg_temp.pick(a.id, 133, 25) = 0
                THEN 'overdue'
            ELSE 'paid' END
FROM (SELECT row_number() OVER (ORDER BY id) AS n, id, pet_id, clinic_id, price,
             (starts_at AT TIME ZONE 'America/Sao_Paulo')
                 + duration_minutes * interval '1 minute' AS issued_local
      FROM appointments
      WHERE status = 'completed' AND price > 0) AS a;

-- name: vacuum_invoices
-- Vacuuming invoices.
-- Read by the next two steps (see vacuum_appointments).
VACUUM (ANALYZE) invoices;

-- name: load_payments
-- Payments.
-- For paid invoices; 12% split in two parts (e.g. Pix now, card later).
INSERT INTO payments (id, invoice_id, paid_at, amount, method, installments, transaction_id)
SELECT row_number() OVER (ORDER BY i.id, s.k), i.id,
       i.issued_at + pg_temp.pick(i.id, 141, 90) * interval '1 minute'
           + (s.k - 1) * (1 + pg_temp.pick(i.id, 142, 20)) * interval '1 day',
       CASE WHEN sp.parts = 1 THEN i.total WHEN s.k = 1 THEN round(i.total / 2, 2)
            ELSE i.total - round(i.total / 2, 2) END,
       m.method,
       CASE WHEN m.method = 'credit_card' THEN 1 + pg_temp.pick(i.id, 145 + s.k, 6) ELSE 1 END,
       md5('petcare-payment-' || i.id || '-' || s.k)::uuid
FROM invoices AS i
CROSS JOIN LATERAL (SELECT CASE WHEN pg_temp.pick(i.id, 140, 100) < 12 THEN 2 ELSE 1 END
                           AS parts) AS sp
CROSS JOIN LATERAL generate_series(1, sp.parts) AS s(k)
CROSS JOIN LATERAL (
    SELECT CASE WHEN pg_temp.pick(i.id, 143 + s.k, 100) < 45 THEN 'pix'::payment_method
                WHEN pg_temp.pick(i.id, 143 + s.k, 100) < 75 THEN 'credit_card'::payment_method
                WHEN pg_temp.pick(i.id, 143 + s.k, 100) < 88 THEN 'debit_card'::payment_method
                WHEN pg_temp.pick(i.id, 143 + s.k, 100) < 95 THEN 'cash'::payment_method
                ELSE 'boleto'::payment_method END AS method) AS m
WHERE i.status = 'paid';

-- name: vacuum_payments
-- Vacuuming payments.
-- Read by the next step (see vacuum_appointments).
VACUUM (ANALYZE) payments;

-- name: load_payments_raw
-- Raw payment webhooks.
-- A sixth of electronic payments, with payer data in the payload; 5% delivered twice
-- (identical rows: this table has no key to stop them).
INSERT INTO payments_raw (received_at, gateway, event, external_id, payload, processed)
SELECT p.paid_at + pg_temp.pick(p.id, 150, 120) * interval '1 second',
       pg_temp.pool(pg_temp.h(p.id, 151), ARRAY['pagbank', 'mercadopago', 'cielo', 'stone']),
       'payment.confirmed', p.transaction_id::text,
       jsonb_build_object('id', p.transaction_id, 'amount', p.amount::text, 'currency', 'BRL',
                          'method', p.method, 'installments', p.installments,
                          'invoice', i.number,
                          'payer', jsonb_build_object('name', t.full_name, 'email', t.email,
                                                      'document', t.cpf, 'phone', t.phone)),
       pg_temp.pick(p.id, 152, 50) > 0
FROM payments AS p
JOIN invoices AS i ON i.id = p.invoice_id
JOIN tutors AS t ON t.id = i.tutor_id
CROSS JOIN LATERAL generate_series(1, CASE WHEN pg_temp.pick(p.id, 153, 20) = 0 THEN 2
                                           ELSE 1 END) AS d(k)
WHERE p.method IN ('pix', 'credit_card', 'debit_card') AND pg_temp.pick(p.id, 154, 6) = 0;
