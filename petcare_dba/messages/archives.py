"""Messages of a project archive (zip) that cannot be imported: size, shape, manifest, checksums,
and the fields it names (a manifest key stays as written, in every language)."""

from __future__ import annotations

TEMPLATES = {
    "msg.bundle.refused": "this project archive cannot be imported: {what}",
    "msg.bundle.refused.hint": "import only a zip made by `petcare-dba project export` (or the "
    "Export button)",
    "msg.bundle.member_path": "member name {name} is not a plain relative path",
    "msg.bundle.member_twice": "member {name} appears twice",
    "msg.bundle.inflates": "it inflates beyond import_max_bytes",
    "msg.bundle.not_utf8": "{member} is not UTF-8 text (byte {n})",
    "msg.bundle.too_big": "it is larger than import_max_bytes ({n} bytes)",
    "msg.bundle.not_zip": "it is not a zip file",
    "msg.bundle.damaged": "the zip is damaged or unsupported ({kind})",
    "msg.bundle.too_many_files": "it has {n} files, more than import_max_versions ({versions}) "
    "and import_max_scripts ({scripts}) allow",
    "msg.bundle.unpacks": "it unpacks to more than import_max_bytes ({n} bytes)",
    "msg.bundle.no_manifest": "it has no manifest.json",
    "msg.bundle.bad_json": "manifest.json is not valid JSON",
    "msg.bundle.format": "it is not a {format} v{version} export",
    "msg.bundle.too_many_scripts": "it has {n} scripts; import_max_scripts is {limit}",
    "msg.bundle.too_many_versions": "it has more than import_max_versions ({n}) versions",
    "msg.bundle.missing_file": "{file} is listed in the manifest but missing",
    "msg.bundle.same_name": "two scripts have the same name",
    "msg.bundle.version_twice": "script {name} lists a version number twice",
    "msg.bundle.checksum": "{file} does not match its sha256 in the manifest",
    "msg.bundle.invisible": "{field} {value} holds control or invisible characters",
    "msg.bundle.length": "{field} must have 1 to {limit} characters",
    "msg.bundle.wrong_type": "{what} has the wrong type in manifest.json",
    # What those three name, where it is not a manifest key as written (`version`, `tags`…).
    "msg.bundle.field.manifest": "the manifest",
    "msg.bundle.field.script_entry": "a script entry",
    "msg.bundle.field.version_entry": "a version entry",
    "msg.bundle.field.project_name": "project name",
    "msg.bundle.field.the_project_name": "the project name",
    "msg.bundle.field.project_description": "project description",
    "msg.bundle.field.script_name": "script name",
    "msg.bundle.field.script_description": "script description",
    "msg.bundle.field.a_tag": "a tag",
    "msg.bundle.field.tag": "tag",
}
