"""The metadata store and target databases: the only package that imports psycopg."""
