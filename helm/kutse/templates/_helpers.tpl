{{/* Names and labels shared by every template. */}}

{{- define "kutse.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The resource name of one service: <release>-kutse-<service>. Needs dict "root" and "name". */}}
{{- define "kutse.serviceName" -}}
{{- printf "%s-%s" (include "kutse.fullname" .root) .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "kutse.labels" -}}
app.kubernetes.io/part-of: kutse
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels of one service. Needs dict "root" and "name". */}}
{{- define "kutse.selectorLabels" -}}
app.kubernetes.io/name: kutse-{{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{- define "kutse.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "kutse.secretName" -}}
{{- if .Values.secrets.existingSecret -}}
{{- .Values.secrets.existingSecret -}}
{{- else -}}
{{- printf "%s-secrets" (include "kutse.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/* A service's settings: the chart defaults overlaid with its own entry. Needs dict "root" and "name". */}}
{{- define "kutse.settings" -}}
{{- $own := index .root.Values.services .name | default dict -}}
{{- toYaml (mergeOverwrite (deepCopy .root.Values.defaults) (deepCopy $own)) -}}
{{- end -}}
