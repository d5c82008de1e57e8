#!/usr/bin/env bash
# One application, from a portal's POST to an e-mailed, verified certificate, against the services
# `make run` started: `make walkthrough` (or run this file). Written to be read: each numbered step
# is what a portal, the awarding body's people or the register do, with the calls they make.
#
# It stops at the first step that fails, printing the server's problem document (what is wrong,
# and the field at fault), so a mistake never turns into a row of `null`s. Access tokens live 5
# minutes (`exp` in the token); the whole walkthrough takes well under one, and every run logs in
# afresh. Needs curl and jq.
set -euo pipefail
export RUST_BACKTRACE=0 # a tool that fails says why in one line
cd "$(dirname "$0")/.."

T=target/debug
for tool in curl jq "$T/kutse-dev-token" "$T/kutse-protocol"; do
  command -v "$tool" >/dev/null 2>&1 || [ -x "$tool" ] || {
    echo "walkthrough: $tool is missing (curl and jq from your package manager; the tools from \`make run\`)" >&2
    exit 1
  }
done
curl -fsS localhost:8081/readyz >/dev/null 2>&1 || {
  echo "walkthrough: intake does not answer on :8081 — start \`make run\` in another terminal first" >&2
  exit 1
}

step() { printf '\n\033[1m%s\033[0m\n' "$*"; }

# request METHOD URL TOKEN OUT [CURL ARGS…]: sends the request with the token (if any), the
# answer's body into the file OUT. On an error status it prints the status and the server's
# problem document to stderr and fails, which stops the walkthrough.
request() {
  local method=$1 url=$2 token=$3 out=$4 status
  shift 4
  local args=(-sS -X "$method" -o "$out" -w '%{http_code}' "$@")
  [ -n "$token" ] && args+=(-H "authorization: Bearer $token")
  status=$(curl "${args[@]}" "$url") || { echo "✗ $method $url: no answer" >&2; return 1; }
  if [ "$status" -ge 400 ]; then
    echo "✗ $method $url answered $status:" >&2
    jq . "$out" >&2 2>/dev/null || cat "$out" >&2
    return 1
  fi
}

# api METHOD URL [TOKEN] [JSON]: the answer's body on stdout, or the problem on stderr (request).
api() {
  local method=$1 url=$2 token=${3:-} body=${4:-} answer
  answer=$(mktemp)
  local args=()
  [ -n "$body" ] && args+=(-H 'content-type: application/json' --data "$body")
  request "$method" "$url" "$token" "$answer" ${args[@]+"${args[@]}"} || { rm -f "$answer"; return 1; }
  cat "$answer"
  echo
  rm -f "$answer"
}

# eventually WHAT COMMAND…: runs COMMAND until it succeeds, for up to 15 s. Each step's effect
# reaches the next service as an event, a moment later. If it never does, the last attempt's
# complaint (the server's problem document, say) is shown with the timeout.
eventually() {
  local what=$1 last
  shift
  last=$(mktemp)
  for _ in $(seq 1 60); do
    "$@" >/dev/null 2>"$last" && { rm -f "$last"; return 0; }
    sleep 0.25
  done
  if [ -s "$last" ]; then
    echo "✗ waited 15 s for $what; the last attempt said:" >&2
    cat "$last" >&2
  else
    echo "✗ waited 15 s for $what; every answer came, none showed it yet" >&2
  fi
  echo "  (the services' log in the \`make run\` terminal says more)" >&2
  rm -f "$last"
  return 1
}

# The demo body and round, from `make seed` (run here if it has not been). A file left from
# services whose databases have since been emptied names a round that no longer exists: then the
# demo set is loaded again (below, once a login can ask intake).
[ -f .local/walkthrough.env ] || make -s seed
# shellcheck source=/dev/null
source .local/walkthrough.env
: "${BODY:?.local/walkthrough.env names no BODY; run make seed}" "${ROUND:?.local/walkthrough.env names no ROUND; run make seed}"

# Each person logs in with the TARA stand-in; the ID token (no roles in it) is exchanged at intake
# for an access token with the roles `make seed` appointed them to, acting for the body.
login() { "$T/kutse-dev-token" token "$@"; }
MARI=$(login --code 49403136526 --name "Mari Maasikas" --email mari@example.com)
round=$(curl -sS -o /dev/null -w '%{http_code}' -H "authorization: Bearer $MARI" "localhost:8081/rounds/$ROUND")
if [ "$round" = 404 ]; then
  echo "walkthrough: the round in .local/walkthrough.env is not in intake (its database was emptied?); loading the demo set again" >&2
  make -s seed
  # shellcheck source=/dev/null
  source .local/walkthrough.env
fi
api GET "localhost:8081/rounds/$ROUND" "$MARI" >/dev/null # any other trouble stops here, with its problem
STAFF=$(login --code 36805280109 --name "Siim Sekretär" --body "$BODY")
ASSESSOR=$(login --code 33105048161 --name "Aino Hindaja" --body "$BODY")
CHAIR=$(login --code 38001085718 --name "Toomas Esimees" --body "$BODY")

step "1. Mari applies (VÕTA), uploads her CV, the body confirms the fee, she submits."
APP=$(api POST localhost:8081/applications "$MARI" \
  '{"round_id":"'"$ROUND"'","kind":"prior_learning","delivery_option":"electronic"}' | jq -er .id)
echo "application $APP"
# A file is judged by its bytes (a PDF here), and virus-scanned before anyone else sees it.
printf '%%PDF-1.4\n%% Mari Maasikas, CV: juuksur 2019-2026\n%%%%EOF\n' >.local/cv.pdf
request POST "localhost:8082/documents?application_id=$APP&type=cv" "$MARI" .local/cv.json \
  -H 'content-type: application/pdf' --data-binary @.local/cv.pdf
jq -c '{sha256, content_type, scan}' .local/cv.json
has_cv() { api GET "localhost:8081/applications/$APP" "$MARI" | jq -e '.documents[0].document_type == "cv"'; }
eventually "intake to hear of the scanned CV" has_cv
api POST "localhost:8081/applications/$APP/fee-confirmation" "$STAFF" | jq -c '{fee_confirmed}'
api POST "localhost:8081/applications/$APP/submit" "$MARI" | jq -c '{status}'
# (submitted before the body confirms the fee, it waits as awaiting_fee; processing starts at the
# confirmation)

step "2. The body's staff assign an assessor, who accepts every competence."
eventually "assessment to open the case" api GET "localhost:8083/assessments/$APP" "$STAFF"
api POST "localhost:8083/assessments/$APP/assessors" "$STAFF" '{"assessor":"33105048161"}' | jq -c .assessors
for c in B.2.1 B.2.2 B.2.3; do
  api PUT "localhost:8083/assessments/$APP/competences/$c" "$ASSESSOR" \
    '{"accepted":true,"justification":"Töötõendid 2019-2026"}' >/dev/null
done
api POST "localhost:8083/assessments/$APP/decision" "$ASSESSOR" '{}' | jq -c '{status}'

step "3. The chair's key: the body's staff propose it, the chair confirms it with their own login."
# (So no one person can both register a key and sign with it. A new key and key id each run.)
KID="chair-$(date +%s)"
rm -f .local/chair.pem
"$T/kutse-protocol" keygen .local/chair.pem
"$T/kutse-protocol" register .local/chair.pem --kid "$KID" --body "$BODY" --owner EE38001085718 --token "$STAFF"
"$T/kutse-protocol" confirm --kid "$KID" --token "$CHAIR"

step "4. The committee meets, votes, the chair signs the frozen protocol."
SESSION=$(api POST localhost:8084/sessions "$STAFF" \
  '{"round_id":"'"$ROUND"'","awarding_body_id":"'"$BODY"'","place":"Tallinn, Pärnu mnt 1"}' | jq -er .id)
for m in 38001085718 30411030851; do # the staff record who of the committee is present
  api PUT "localhost:8084/sessions/$SESSION/presence" "$STAFF" '{"member":"'$m'","present":true}' >/dev/null
done
vote() { api POST "localhost:8084/sessions/$SESSION/votes" "$CHAIR" '{"application_id":"'"$APP"'","in_favour":true}'; }
eventually "the committee to hear of the panel's decision" vote
api POST "localhost:8084/sessions/$SESSION/protocol" "$STAFF" '{"chair":"EE38001085718"}' >.local/protocol.json
JWS=$("$T/kutse-protocol" sign .local/chair.pem --kid "$KID" .local/protocol.json)
api POST "localhost:8084/sessions/$SESSION/signature" "$CHAIR" '{"jws":"'"$JWS"'"}' | jq -c '{status}'

step "5. The certificate is issued and e-mailed; anyone can verify it."
number() { api GET "localhost:8081/applications/$APP" "$MARI" | jq -er '.history[-1].detail.register_number'; }
eventually "the register to issue the certificate" number
NUMBER=$(number)
echo "certificate $NUMBER"
# The e-mail that carries this certificate, found by its number (maildev's API, as a person's
# mailbox would show it).
its_mail='[.[] | select(.to[0].address == "mari@example.com" and (.text | contains($n)))] | last'
mailed() { curl -fsS localhost:1080/api/email | jq -e --arg n "$NUMBER" "$its_mail != null"; }
eventually "the certificate's e-mail" mailed
curl -fsS localhost:1080/api/email | jq -r --arg n "$NUMBER" "$its_mail"' | "e-mailed to \(.to[0].address): \(.subject)"'
api GET "localhost:8085/certificates/$NUMBER/verification" |
  jq '{valid, number: .certificate.register_number, holder: .certificate.holder, status: .certificate.status}'
api GET "localhost:8085/certificates/$NUMBER" "$MARI" | jq -c .certificate.holder # her own view: with her personal code

step "6. The certificate as documents: the page its QR code opens, the Open Badges credential, the PDF."
echo "page: http://localhost:8085/certificates/$NUMBER"
api GET "localhost:8085/certificates/$NUMBER/credential" | cut -d. -f2 | base64 -d 2>/dev/null |
  jq -c '.credentialSubject.achievement.name' || true
request GET "localhost:8085/certificates/$NUMBER/certificate.pdf" "$MARI" .local/download.pdf
mv .local/download.pdf ".local/$NUMBER.pdf" # only a PDF that came takes the certificate's name
echo "PDF: .local/$NUMBER.pdf"

step "7. After the certificate: her list, the public register, a print, a duplicate, who read her data."
api GET localhost:8085/me/certificates "$MARI" | jq -c '.[] | {register_number, status, published}'
# She alone hides it from the public register's search (verification by its number keeps working).
api PUT "localhost:8085/certificates/$NUMBER/publication" "$MARI" '{"published":false}' >/dev/null
api GET "localhost:8085/register/certificates?name=Maasikas" | jq -c '{hidden_total: .total}'
api PUT "localhost:8085/certificates/$NUMBER/publication" "$MARI" '{"published":true}' >/dev/null
api GET "localhost:8085/register/certificates?name=Maasikas" |
  jq -c '.certificates[0] | {register_number, given_name, family_name, status}'
# A print on paper, posted (its cost is the round's); the body's print queue.
api POST "localhost:8081/applications/$APP/print-orders" "$MARI" \
  '{"delivery_option":"post","address":"Tartu mnt 1, 10115 Tallinn"}' | jq -c '{delivery_option, cost_cents}'
api GET "localhost:8081/desk/print-queue?awarding_body_id=$BODY" "$STAFF" | jq -c '{print_queue: length}'
# Mari married: logged in under her new name, she orders a duplicate (no documents, no
# assessment); once the body confirms its fee, the register issues a new document of the same
# certificate under her new name and e-mails it.
MARI=$(login --code 49403136526 --name "Mari Mustikas" --email mari@example.com)
DUP=$(api POST localhost:8081/applications "$MARI" \
  '{"round_id":"'"$ROUND"'","kind":"duplicate","duplicate_reason":"name_changed","certificate_number":"'"$NUMBER"'","delivery_option":"electronic"}' | jq -er .id)
api POST "localhost:8081/applications/$DUP/submit" "$MARI" | jq -c '{status}'
api POST "localhost:8081/applications/$DUP/fee-confirmation" "$STAFF" | jq -c '{status}'
reissued() { api GET "localhost:8085/certificates/$NUMBER/verification" | jq -e '.certificate.duplicate != null'; }
eventually "the duplicate" reissued
api GET "localhost:8085/certificates/$NUMBER/verification" | jq -c '{holder: .certificate.holder, duplicate: .certificate.duplicate}'
# The body's staff open her application; who other than Mari read her data, where and when:
api GET "localhost:8081/applications/$APP" "$STAFF" >/dev/null
api GET localhost:8081/me/data-reads "$MARI" | jq -c '.reads[] | [.read_at, .service, .what, .reader_role, .reader_name]'
# A recertification names the certificate it renews, within the body's window around its expiry
# (12 months either side unless the body's administrator sets it); today it is refused, and the
# refusal names the field:
if api POST localhost:8081/applications "$MARI" \
  '{"round_id":"'"$ROUND"'","kind":"recertification","certificate_number":"'"$NUMBER"'","delivery_option":"electronic"}' 2>.local/refusal.json >/dev/null; then
  echo "✗ a recertification years before the expiry was accepted" >&2
  exit 1
fi
sed -n '2,$p' .local/refusal.json | jq -c '.errors'

step "Done: e-mails at http://127.0.0.1:1080, the certificate at http://localhost:8085/certificates/$NUMBER"
