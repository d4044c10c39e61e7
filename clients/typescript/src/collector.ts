// What a frontend does with the generated types: every path, parameter, header and body
// below is checked by tsc against the services' OpenAPI documents (`make clients` or the
// test tests/api_contract/test_typed_clients.py regenerates generated/ first).
import createClient from "openapi-fetch";
import type { paths as Billing } from "../generated/billing-adapter";
import type { paths as Cases } from "../generated/case-service";
import type { paths as Collections } from "../generated/collections-service";

type Session = { baseUrl: string; token: string };

const auth = (s: Session) => ({ baseUrl: s.baseUrl, headers: { Authorization: `Bearer ${s.token}` } });

/** An invoice's total and the ETag to send as If-Match with a write based on it. */
export async function invoiceTotal(s: Session, invoiceId: string): Promise<{ total: number; etag: string | null }> {
  const billing = createClient<Billing>(auth(s));
  const { data, error, response } = await billing.GET("/v1/invoices/{invoice_id}", {
    params: { path: { invoice_id: invoiceId } },
  });
  if (error) throw new Error(`${error.status} ${error.title}`);
  return { total: data.total_minor, etag: response.headers.get("ETag") };
}

/** A payment taken on the phone, retried safely with the same Idempotency-Key. */
export async function recordPayment(s: Session, accountId: string, amountMinor: number, key: string): Promise<string> {
  const billing = createClient<Billing>(auth(s));
  const { data, error, response } = await billing.POST("/v1/payments", {
    params: { header: { "Idempotency-Key": key } },
    body: {
      external_id: `phone-${key}`,
      account_id: accountId,
      amount_minor: amountMinor,
      currency: "USD",
      method: "card",
      received_on: "2026-12-05",
    },
  });
  if (error) throw new Error(`${error.status} ${error.title}`);
  const replayed: boolean = response.headers.get("Idempotent-Replayed") === "true";
  return replayed ? `replayed ${data.payment_id}` : data.payment_id;
}

/** "Call back Thursday at 10": a follow-up task. */
export async function callBack(s: Session, accountId: string, dueOn: string, key: string): Promise<string> {
  const collections = createClient<Collections>(auth(s));
  const { data, error } = await collections.POST("/v1/tasks", {
    params: { header: { "Idempotency-Key": key } },
    body: { account_id: accountId, kind: "call", due_on: dueOn, due_time: "10:00", note: "call back" },
  });
  if (error) throw new Error(`${error.status} ${error.title}`);
  return data.task_id;
}

/** A case's number and status, for the case desk. */
export async function caseHeadline(s: Session, caseId: string): Promise<string> {
  const cases = createClient<Cases>(auth(s));
  const { data, error } = await cases.GET("/v1/cases/{case_id}", { params: { path: { case_id: caseId } } });
  if (error) throw new Error(`${error.status} ${error.title}`);
  return `${data.case_number}: ${data.status}${data.owner_id === null ? " (unassigned)" : ""}`;
}
