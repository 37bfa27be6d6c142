"""A table with one column per built-in type family (and arrays of them) and hostile rows.

`ALL_TYPES` creates `all_types` on a target: numerics with scale 20, NaN and Infinity, bigints
beyond 2^53, -infinity timestamps, BC dates, intervals with months, json with numbers no float
holds, unicode, quotes, commas, newlines, backslashes, the empty string beside NULL, arrays with
NULL elements, a lower bound, and nested dimensions. Used by the value formatter's tests.
"""

from __future__ import annotations

SCHEMA = """
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy, "really"');
CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
CREATE TYPE pair AS (a int, b text);
CREATE TABLE all_types (
    id int PRIMARY KEY,
    b bool, i2 int2, i4 int4, i8 int8, n numeric, n52 numeric(5,2), n20 numeric(40,20),
    f4 real, f8 double precision, cash money,
    t text, vc varchar(30), ch char(5), nm name, ch1 "char",
    by bytea, u uuid,
    d date, tm time, ttz timetz, ts timestamp, tstz timestamptz, iv interval,
    j json, jb jsonb,
    ip inet, net cidr, mac macaddr, mac8 macaddr8,
    bits bit(4), vbits varbit,
    tsv tsvector, tsq tsquery,
    pt point, ln line, ls lseg, bx box, pth path, pg polygon, ci circle,
    r4 int4range, r8 int8range, nr numrange, dr daterange, tsr tsrange, tstzr tstzrange,
    mr int4multirange,
    en mood, dom posint, comp pair,
    lsn pg_lsn, oid_ oid,
    ta text[], ia int[], i8a bigint[], na numeric[], ba bool[], f8a float8[], tsa timestamptz[],
    jba jsonb[], bya bytea[], bxa box[], ena mood[], compa pair[], uua uuid[], ia2 int[][],
    lb int[]
)
"""

ROWS = r"""
INSERT INTO all_types VALUES (
    1, true, -32768, 2147483647, 9223372036854775807, 'NaN', 123.45,
    '12345678901234567890.12345678901234567890', 'Infinity', '-Infinity', '-1234.56',
    E'h\u00e9llo, "w\u00f6rld"\n\\back\\slash\r\ttab', 'a,b', 'ab', 'n"m', 'x',
    '\x00ff5c22', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    '-infinity', '24:00:00', '23:59:59.999999+14', 'infinity', '-infinity',
    '1 year 2 mons 3 days 04:05:06.789', '{"b": 1.000000000000000000001, "a": [1e400]}',
    '{"n": 12345678901234567890123, "s": "\u00e9\n"}',
    '2001:db8::1/64', '10.0.0.0/8', '08:00:2b:01:02:03', '08:00:2b:01:02:03:04:05',
    B'1010', B'', 'a fat:2 cat', 'fat & !rat',
    '(1.5,-2)', '{1,2,3}', '[(0,0),(1,1)]', '(2,2),(0,0)', '[(0,0),(1,1),(2,0)]',
    '((0,0),(1,1),(1,0))', '<(0,0),1.5>',
    '[1,5)', '(,100]', 'empty', '[2024-01-01,infinity)', '[2024-01-01 10:00,)',
    '["2024-01-01 10:00+02",)', '{[1,3),[5,7)}',
    'happy, "really"', 7, ROW(1, E'x,"y"\\z'), '16/B374D848', 4294967295,
    ARRAY['Trailers', 'Deleted Scenes', 'NULL', '', NULL, E'q"uo\\te', 'a,b', '{x}', ' sp '],
    ARRAY[1, NULL, -3], ARRAY[9223372036854775807, -9223372036854775808],
    ARRAY[1.50, 'NaN', 0.00000000000000000001]::numeric[], ARRAY[true, false, NULL],
    ARRAY['NaN', '-Infinity', 0.1, 1e300]::float8[],
    ARRAY['-infinity', '2024-05-01 10:00:00.5+02']::timestamptz[],
    ARRAY['{"k": 1.10}', 'null']::jsonb[], ARRAY['\x00'::bytea, ''::bytea],
    ARRAY['(1,1),(0,0)'::box, '(2,2),(1,1)'::box], ARRAY['ok', 'happy, "really"']::mood[],
    ARRAY[ROW(1, 'a b')::pair, NULL], ARRAY['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid],
    ARRAY[[1, 2], [3, NULL]], '[0:1]={1,2}'
), (
    2, false, 0, 0, -9223372036854775808, '0.00000000000000000001', -0.5, 0, 'NaN', 1e-320,
    0, '', '', '', '', '', '', '00000000-0000-0000-0000-000000000000',
    '0044-03-15 BC', '00:00', '00:00+00', '0001-01-01 00:00 BC', '2024-02-29 12:00:00.5-03:30',
    '-1 mons +30 days -00:00:01', '""', '{}', '0.0.0.0', '::/0', '00:00:00:00:00:00',
    '00:00:00:00:00:00:00:00', B'0000', B'1', '', '', '(0,0)', '{0,1,0}', '[(0,0),(0,0)]',
    '(0,0),(0,0)', '((0,0))', '((0,0))', '<(0,0),0>', 'empty', 'empty', '[0,0]', 'empty',
    'empty', 'empty', '{}', 'sad', 1, ROW(NULL, ''), '0/0', 0,
    '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}'
);
INSERT INTO all_types (id) VALUES (3)
"""

# Every row of both tables by its own text (record_out prints each column with its type's output
# function, NULL as nothing and '' as ""): stricter than `=`, which compares boxes by area and
# has no operator for json or point. (The aliases are no column's name: `b` is one.)
DIFFERENCE = """
SELECT count(*) FROM (
    (SELECT src::text FROM all_types src EXCEPT ALL SELECT cpy::text FROM {clone} cpy)
    UNION ALL
    (SELECT cpy::text FROM {clone} cpy EXCEPT ALL SELECT src::text FROM all_types src)
) AS diff
"""
