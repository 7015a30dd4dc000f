#!/usr/bin/env bash
# airflow-init (docker-compose.yaml): the secrets every Airflow container shares, then the metadata DB and
# the pools. It runs before the other services start; they wait for it to succeed.
#
# Secrets live in the `airflow-secrets` volume (AIRFLOW_SECRETS, mode 600, owned by the Airflow user):
#   fernet_key          encrypts connections and variables in the metadata DB. The operator's
#                       AIRFLOW__CORE__FERNET_KEY wins when set; otherwise one is generated on the first
#                       start and kept (the containers read it through AIRFLOW__CORE__FERNET_KEY_CMD).
#   admin_passwords.json the UI's admin password (SimpleAuthManager's passwords file): _AIRFLOW_WWW_USER_PASSWORD
#                       when set, otherwise generated on the first start and printed once, here.
# An empty AIRFLOW__CORE__FERNET_KEY would make Airflow store secrets unencrypted, and "airflow" is the
# password everyone tries first: both are refused.
set -euo pipefail

SECRETS="${AIRFLOW_SECRETS:-/opt/airflow/secrets}"
FERNET_FILE="$SECRETS/fernet_key"
PASSWORDS_FILE="$SECRETS/admin_passwords.json"
ADMIN="${_AIRFLOW_WWW_USER_USERNAME:-admin}"
umask 077
mkdir -p "$SECRETS"

if [ -n "${AIRFLOW__CORE__FERNET_KEY+set}" ] && [ -z "$AIRFLOW__CORE__FERNET_KEY" ]; then
  echo "clearinghouse: AIRFLOW__CORE__FERNET_KEY is set but empty (.env?): remove the line to have a key" \
       "generated, or set one (python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')" >&2
  exit 1
fi
if [ -n "${AIRFLOW__CORE__FERNET_KEY:-}" ]; then
  echo "clearinghouse: using the Fernet key from AIRFLOW__CORE__FERNET_KEY"
elif [ ! -s "$FERNET_FILE" ]; then
  # No newline: AIRFLOW__CORE__FERNET_KEY_CMD hands the file's bytes to Airflow as they are.
  python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode(), end="")' > "$FERNET_FILE"
  echo "clearinghouse: generated a Fernet key in $FERNET_FILE; back it up with the metadata DB"
fi

case "${_AIRFLOW_WWW_USER_PASSWORD:-}" in
  airflow | admin | password)
    echo "clearinghouse: _AIRFLOW_WWW_USER_PASSWORD is a default password; set another or leave it empty" \
         "to have one generated" >&2
    exit 1 ;;
esac
ADMIN="$ADMIN" PASSWORD="${_AIRFLOW_WWW_USER_PASSWORD:-}" PASSWORDS_FILE="$PASSWORDS_FILE" python - <<'PY'
import json, os, secrets
from pathlib import Path

path, admin, given = Path(os.environ["PASSWORDS_FILE"]), os.environ["ADMIN"], os.environ["PASSWORD"]
passwords = json.loads(path.read_text() or "{}") if path.exists() else {}
if given:
    passwords[admin] = given
elif admin not in passwords:
    passwords[admin] = secrets.token_urlsafe(18)
    print(f"clearinghouse: generated the password of the Airflow UI user {admin!r}: {passwords[admin]}")
    print(f"  (shown once; it is kept in {path} in the airflow-secrets volume)")
path.write_text(json.dumps(passwords) + "\n")
PY

if [ "$(id -u)" = 0 ]; then
  chown -R "${AIRFLOW_UID:-50000}:0" "$SECRETS"
fi
chmod 600 "$SECRETS"/*

airflow db migrate
clearinghouse airflow-pools
echo "clearinghouse: metadata DB migrated, pools created"
