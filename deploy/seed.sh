#!/usr/bin/env bash
# Loads a demo set into the running services (`make run` first), as its people would through a
# portal — each logs in with the TARA stand-in and exchanges the ID token at intake:
# - the authority (37605030299, from AUTHORITY_PERSONAL_CODES) creates an awarding body (the
#   Estonian hairdressers' union) and appoints its administrator (48704147433);
# - the administrator appoints its staff (36805280109), assessor (33105048161), committee chair
#   (38001085718) and a committee member (30411030851);
# - the staff add two qualifications with their competences — "Juuksur, tase 4" and "Osakutse
#   barber, tase 4" — and an open round for each with the VÕTA fees from the seeds (170 € and
#   135 €).
# Prints the ids to continue with (see README, "Walkthrough").
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bin=${KUTSE_BIN_DIR:-target/debug}
intake=${INTAKE_URL:-http://127.0.0.1:8081}
token() { "$bin/kutse-dev-token" token --intake "$intake" "$@"; }
post() { # url token json
  local out status
  out=$(curl -sS -w '\n%{http_code}' -X POST "$1" -H "authorization: Bearer $2" -H 'content-type: application/json' -d "$3")
  status=${out##*$'\n'}
  out=${out%$'\n'*}
  if [[ $status != 2* ]]; then echo "POST $1 failed ($status): $out" >&2; exit 1; fi
  printf '%s' "$out"
}
field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

curl -sf -o /dev/null "$intake/healthz" || { echo "intake is not running at $intake: start it with 'make run'" >&2; exit 1; }

appoint() { # token body code role
  post "$intake/awarding-bodies/$2/appointments" "$1" \
    '{"personal_code":"'"$3"'","role":"'"$4"'","reason":"demo set (make seed)"}' > /dev/null
}

authority=$(token --code 37605030299 --name "Kati Kutsekoda")
body=$(post "$intake/awarding-bodies" "$authority" '{"name":"Eesti Juuksurite ja Kosmeetikute Ühendus","email":"kantselei@juuksurid.example"}' | field id)
appoint "$authority" "$body" 48704147433 body_administrator
admin=$(token --code 48704147433 --name "Anu Haldur" --body "$body")
appoint "$admin" "$body" 36805280109 awarding_body_staff
appoint "$admin" "$body" 33105048161 assessor
appoint "$admin" "$body" 38001085718 committee_chair
appoint "$admin" "$body" 30411030851 committee_member
staff=$(token --code 36805280109 --name "Siim Sekretär" --body "$body")

deadline=$(date -d '+30 days' +%F)
juuksur=$(post "$intake/qualifications" "$staff" '{
  "awarding_body_id": "'"$body"'", "name": "Juuksur, tase 4", "level": 4,
  "competences": [
    {"code": "B.2.1", "name": "Juuste lõikamine"},
    {"code": "B.2.2", "name": "Juuste värvimine"},
    {"code": "B.2.3", "name": "Soengu kujundamine"}
  ]}' | field id)
barber=$(post "$intake/qualifications" "$staff" '{
  "awarding_body_id": "'"$body"'", "name": "Osakutse barber, tase 4", "level": 4, "partial": true,
  "competences": [
    {"code": "B.3.1", "name": "Meeste juukselõikus"},
    {"code": "B.3.2", "name": "Habeme ja vuntside hooldus"}
  ]}' | field id)
round_juuksur=$(post "$intake/rounds" "$staff" '{
  "qualification_id": "'"$juuksur"'", "deadline": "'"$deadline"'",
  "fees": [{"kind": "initial", "amount_cents": 17000}, {"kind": "prior_learning", "amount_cents": 17000},
           {"kind": "recertification", "amount_cents": 9000}, {"kind": "duplicate", "amount_cents": 1500}],
  "required_documents": ["cv"],
  "delivery_options": [{"option": "electronic"}, {"option": "post", "cost_cents": 450}, {"option": "pickup"}]}' | field id)
round_barber=$(post "$intake/rounds" "$staff" '{
  "qualification_id": "'"$barber"'", "deadline": "'"$deadline"'",
  "fees": [{"kind": "prior_learning", "amount_cents": 13500}],
  "required_documents": ["cv"],
  "delivery_options": [{"option": "electronic"}, {"option": "post", "cost_cents": 450}]}' | field id)

# The walkthrough sources this instead of copying ids by hand.
mkdir -p .local
cat > .local/walkthrough.env <<ENV
# Written by \`make seed\` on $(date -u +%Y-%m-%dT%H:%M:%SZ): the demo's awarding body and round.
export BODY=$body ROUND=$round_juuksur
ENV

cat <<TXT
Demo set loaded.
  awarding body             $body
  Juuksur, tase 4           $juuksur   round $round_juuksur (deadline $deadline)
  Osakutse barber, tase 4   $barber   round $round_barber

  administrator 48704147433, staff 36805280109, assessor 33105048161,
  committee chair 38001085718, member 30411030851

Continue with (README, "Walkthrough"):
  source .local/walkthrough.env    # export BODY=$body ROUND=$round_juuksur
TXT
