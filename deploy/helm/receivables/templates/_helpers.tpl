{{/* Names, labels and the pieces every workload shares. */}}

{{- define "receivables.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "receivables.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* <fullname>-<service>; 40 + 1 + 19 characters leaves room for "-worker" under 63. */}}
{{- define "receivables.serviceName" -}}
{{- printf "%s-%s" (include "receivables.fullname" .root) .name | trunc 56 | trimSuffix "-" -}}
{{- end -}}

{{- define "receivables.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "receivables.selectorLabels" -}}
app.kubernetes.io/name: {{ include "receivables.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "receivables.labels" -}}
helm.sh/chart: {{ include "receivables.chart" . }}
{{ include "receivables.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: receivables
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector of one service's pods of one component: dict root name component */}}
{{- define "receivables.componentSelector" -}}
{{ include "receivables.selectorLabels" .root }}
receivables/service: {{ .name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "receivables.componentLabels" -}}
{{ include "receivables.labels" .root }}
receivables/service: {{ .name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "receivables.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "receivables.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The image of one service: dict root name */}}
{{- define "receivables.image" -}}
{{- $img := .root.Values.image -}}
{{- $repo := printf "%s/%s" $img.repositoryPrefix .name -}}
{{- if $img.registry -}}
{{- $repo = printf "%s/%s" $img.registry $repo -}}
{{- end -}}
{{- with (get ($img.digests | default dict) .name) -}}
{{- printf "%s@%s" $repo . -}}
{{- else -}}
{{- printf "%s:%s" $repo (default .root.Chart.AppVersion $img.tag) -}}
{{- end -}}
{{- end -}}

{{/* The TCP port of a URL: its explicit port, else 443 for https and 80 for http. */}}
{{- define "receivables.urlPort" -}}
{{- $url := urlParse . -}}
{{- $host := $url.host -}}
{{- if regexMatch ":[0-9]+$" $host -}}
{{- regexFind "[0-9]+$" $host -}}
{{- else if eq $url.scheme "https" -}}
443
{{- else -}}
80
{{- end -}}
{{- end -}}

{{/* TCP ports a pod must reach beyond DNS, PostgreSQL and Kafka, from the values naming
    endpoints (identity provider, OTLP collector, object storage, SMTP): dict root name */}}
{{/* Collections asks billing-adapter for pay links (with a token minted from the JWT
    secret) when both are there; "true" or "": dict root name */}}
{{- define "receivables.asksBilling" -}}
{{- $v := .root.Values -}}
{{- if and (eq .name "collections-service") $v.jwt.existingSecret (index $v.services "billing-adapter").enabled -}}true{{- end -}}
{{- end -}}

{{- define "receivables.endpointPorts" -}}
{{- $v := .root.Values -}}
{{- $ports := list -}}
{{- range (list $v.jwt.jwksUrl $v.otel.endpoint $v.objectStorage.endpoint) -}}
{{- if . -}}{{- $ports = append $ports (include "receivables.urlPort" . | int) -}}{{- end -}}
{{- end -}}
{{- if and $v.smtp.existingSecret (has .name (list "collections-service" "case-service")) -}}
{{- $ports = append $ports ($v.smtp.port | int) -}}
{{- end -}}
{{- if include "receivables.asksBilling" . -}}
{{- $ports = append $ports ((index $v.services "billing-adapter").port | int) -}}
{{- end -}}
{{- if and (eq .name "console") $v.console.oidc.issuer -}}
{{- $ports = append $ports (include "receivables.urlPort" $v.console.oidc.issuer | int) -}}
{{- end -}}
{{- range $v.networkPolicy.egress.extraPorts -}}
{{- $ports = append $ports (. | int) -}}
{{- end -}}
{{- toJson ($ports | uniq | sortAlpha) -}}
{{- end -}}

{{/* The pod pieces every workload may add: extra Secrets as env, envFrom, volumes,
    sidecars. Environment lines: dict extra */}}
{{- define "receivables.extraSecretEnv" -}}
{{- range $envName, $ref := .extra.secretEnv }}
- name: {{ $envName }}
  valueFrom:
    secretKeyRef:
      name: {{ $ref.secretName }}
      key: {{ $ref.key }}
{{- end }}
{{- end -}}

{{/* preStop: keep serving while endpoints and load balancers drop the pod. */}}
{{- define "receivables.lifecycle" -}}
{{- with .Values.lifecycle.preStopSleepSeconds }}
lifecycle:
  preStop:
    exec:
      command: ["sleep", "{{ . }}"]
{{- end }}
{{- end -}}

{{/* The non-secret environment of one service (its ConfigMap): dict root name svc */}}
{{- define "receivables.configData" -}}
{{- $v := .root.Values -}}
HTTP_HOST: "0.0.0.0"
HTTP_PORT: {{ .svc.port | quote }}
HTTP_ROOT_PATH: {{ .svc.pathPrefix | quote }}
DATABASE_POOL_SIZE: {{ $v.database.poolSize | quote }}
LOG_LEVEL: {{ $v.logLevel | quote }}
BUSINESS_DATE_MIN: {{ $v.businessDates.earliest | quote }}
BUSINESS_DATE_MAX: {{ $v.businessDates.latest | quote }}
KAFKA_BOOTSTRAP_SERVERS: {{ $v.kafka.bootstrapServers | quote }}
KAFKA_SECURITY_PROTOCOL: {{ $v.kafka.securityProtocol | quote }}
KAFKA_TOPIC_PARTITIONS: {{ $v.topics.partitions | quote }}
KAFKA_REPLICATION_FACTOR: {{ $v.topics.replicationFactor | quote }}
{{- if $v.kafka.sasl.mechanism }}
KAFKA_SASL_MECHANISM: {{ $v.kafka.sasl.mechanism | quote }}
{{- end }}
{{- if $v.kafka.tls.caSecret }}
KAFKA_SSL_CAFILE: /etc/receivables/kafka-ca/{{ $v.kafka.tls.caKey }}
{{- end }}
{{- if $v.kafka.tls.clientCertSecret }}
KAFKA_SSL_CERTFILE: /etc/receivables/kafka-client/tls.crt
KAFKA_SSL_KEYFILE: /etc/receivables/kafka-client/tls.key
{{- end }}
JWT_AUDIENCE: {{ $v.jwt.audience | quote }}
{{- if $v.jwt.issuer }}
JWT_ISSUER: {{ $v.jwt.issuer | quote }}
{{- end }}
{{- if $v.jwt.jwksUrl }}
JWT_JWKS_URL: {{ $v.jwt.jwksUrl | quote }}
{{- end }}
{{- if $v.otel.endpoint }}
OTEL_EXPORTER_OTLP_ENDPOINT: {{ $v.otel.endpoint | quote }}
{{- end }}
{{- if $v.otel.resourceAttributes }}
OTEL_RESOURCE_ATTRIBUTES: {{ $v.otel.resourceAttributes | quote }}
{{- end }}
{{- if eq .name "collections-service" }}
COLLECTIONS_TIMEZONE: {{ $v.collections.timezone | quote }}
COLLECTIONS_DAILY_RUN: {{ $v.collections.dailyRun | quote }}
COLLECTIONS_DAILY_RUN_AT: {{ $v.collections.dailyRunAt | quote }}
COLLECTIONS_GRACE_DAYS: {{ $v.collections.graceDays | quote }}
{{- if and (include "receivables.asksBilling" .) (not (hasKey .svc.env "BILLING_ADAPTER_URL")) }}
{{- $billing := index $v.services "billing-adapter" }}
BILLING_ADAPTER_URL: {{ printf "http://%s:%v" (include "receivables.serviceName" (dict "root" .root "name" "billing-adapter")) $billing.port | quote }}
{{- end }}
{{- end }}
{{- if eq .name "case-service" }}
CASE_SLA_DEFAULT_DAYS: {{ $v.cases.slaDefaultDays | quote }}
CASE_SLA_TARGETS: {{ $v.cases.slaTargets | quote }}
CASE_REOPEN_WINDOW_DAYS: {{ $v.cases.reopenWindowDays | quote }}
{{- end }}
{{- range $key, $value := .svc.env }}
{{ $key }}: {{ $value | toString | quote }}
{{- end }}
{{- end -}}

{{/* Environment from Secrets: the database URL, the JWT key, the billing adapter's Stripe
    webhook secret, the SMTP URL of the services that email, Kafka SASL credentials. */}}
{{- define "receivables.secretEnv" -}}
{{- $v := .root.Values -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .svc.database.existingSecret }}
      key: {{ .svc.database.key }}
{{- if $v.jwt.existingSecret }}
- name: JWT_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ $v.jwt.existingSecret }}
      key: {{ $v.jwt.secretKey }}
{{- end }}
{{- if and (eq .name "billing-adapter") $v.stripe.existingSecret }}
- name: STRIPE_WEBHOOK_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ $v.stripe.existingSecret }}
      key: {{ $v.stripe.secretKey }}
{{- end }}
{{- if and (has .name (list "collections-service" "case-service")) $v.smtp.existingSecret }}
- name: SMTP_URL
  valueFrom:
    secretKeyRef:
      name: {{ $v.smtp.existingSecret }}
      key: {{ $v.smtp.secretKey }}
{{- end }}
{{- include "receivables.extraSecretEnv" (dict "extra" .svc) }}
{{- if $v.kafka.sasl.existingSecret }}
- name: KAFKA_SASL_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ $v.kafka.sasl.existingSecret }}
      key: {{ $v.kafka.sasl.usernameKey }}
- name: KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $v.kafka.sasl.existingSecret }}
      key: {{ $v.kafka.sasl.passwordKey }}
{{- end }}
{{- end -}}

{{/* Volumes for /tmp and the Kafka certificates, and where they are mounted. */}}
{{- define "receivables.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- if .Values.kafka.tls.caSecret }}
- name: kafka-ca
  secret:
    secretName: {{ .Values.kafka.tls.caSecret }}
{{- end }}
{{- if .Values.kafka.tls.clientCertSecret }}
- name: kafka-client
  secret:
    secretName: {{ .Values.kafka.tls.clientCertSecret }}
{{- end }}
{{- end -}}

{{- define "receivables.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if .Values.kafka.tls.caSecret }}
- name: kafka-ca
  mountPath: /etc/receivables/kafka-ca
  readOnly: true
{{- end }}
{{- if .Values.kafka.tls.clientCertSecret }}
- name: kafka-client
  mountPath: /etc/receivables/kafka-client
  readOnly: true
{{- end }}
{{- end -}}
