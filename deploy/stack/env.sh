# Names and credentials of the local stack, shared by up.sh, down.sh and the Makefile.
# These are development values for a loopback-only stack; production sets its own through the
# services' environment (see README, "Configuration").
KUTSE_PG_USER=${KUTSE_PG_USER:-kutse}
KUTSE_PG_PASSWORD=${KUTSE_PG_PASSWORD:-kutse}
KUTSE_DATABASES=${KUTSE_DATABASES:-"kutse_intake kutse_documents kutse_assessment kutse_committee kutse_certificates kutse_notifications"}
KUTSE_BUCKETS=${KUTSE_BUCKETS:-"kutse-documents kutse-certificates"}
S3_ACCESS_KEY_ID=${S3_ACCESS_KEY_ID:-kutse}
S3_SECRET_ACCESS_KEY=${S3_SECRET_ACCESS_KEY:-kutse-local-secret}
