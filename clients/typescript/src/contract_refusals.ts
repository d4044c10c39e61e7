// What the documents forbid must not compile: each line below is a mistake a frontend
// developer could make, and tsc must refuse it (`@ts-expect-error` fails the type check
// when no error follows, so a document that stopped declaring a rule fails the test).
import createClient from "openapi-fetch";
import type { paths as Billing } from "../generated/billing-adapter";
import type { paths as Cases } from "../generated/case-service";

const billing = createClient<Billing>({ baseUrl: "http://billing" });
const cases = createClient<Cases>({ baseUrl: "http://cases" });

export async function mistakes(accountId: string): Promise<void> {
  const payment = {
    external_id: "p-1", account_id: accountId, amount_minor: 100, currency: "USD",
    method: "card" as const, received_on: "2026-12-05",
  };
  // @ts-expect-error a create without its Idempotency-Key (the server answers 400)
  await billing.POST("/v1/payments", { body: payment });
  // @ts-expect-error a payment method the platform does not know
  await billing.POST("/v1/payments", { params: { header: { "Idempotency-Key": "k" } }, body: { ...payment, method: "bitcoin" } });
  // @ts-expect-error closing a case blind, without If-Match (the server answers 428)
  await cases.POST("/v1/cases/{case_id}/close", { params: { path: { case_id: "c" } } });
}
