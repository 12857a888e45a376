/**
 * The OpenAPI 3.1 document, generated from the same zod schemas that validate
 * requests (the record schema comes from the loaded model's signature).
 */
import { z } from "zod";
import type { ServedModel } from "./holder.ts";
import { DEFAULT_TOP, MAX_TOP } from "./explain.ts";
import { entityPlan, MAX_ID_LENGTH } from "./entity.ts";

const Scalar = z.union([z.string(), z.number(), z.boolean()]);

const ExplanationSchema = z.object({
  class: Scalar.optional().describe(
    "classification: the class explained (binary: the positive class; else the predicted one)",
  ),
  scale: z.enum(["probability", "log_odds", "logit", "value"]).describe(
    "what base_value and the contributions add up to",
  ),
  base_value: z.number().describe("the model's expected output over its training data"),
  output: z.number().describe("the record's raw output on scale: base_value + every contribution"),
  top: z.array(z.object({
    column: z.string().describe("an input column (one-hot levels and date parts summed back to it)"),
    value: z.unknown().describe("the record's value of the column (null when missing)"),
    contribution: z.number().describe("its SHAP value: what it added to or took from the output"),
  })).describe("the largest contributions by absolute value, at most top"),
  rest: z.number().describe("the other columns' contributions: base_value + top + rest = output"),
});

const PredictionSchema = z.object({
  prediction: Scalar.describe("the predicted class (or value)"),
  probabilities: z.record(z.string(), z.number()).optional().describe("class label -> probability"),
  explanation: ExplanationSchema.optional().describe("with ?explain=true: the record's SHAP explanation"),
});

const PredictResponseSchema = z.object({
  model: z.string(),
  version: z.string(),
  request_id: z.string().describe(
    "the caller's X-Request-Id when it is safe, else a new UUID; the prediction log's request_id",
  ),
  predictions: z.array(PredictionSchema),
});

const ErrorSchema = z.object({
  error: z.string().describe("one line, never a stack trace"),
  error_code: z.string().describe(
    "MLflow's error codes: INVALID_PARAMETER_VALUE, PAYLOAD_TOO_LARGE, NOT_FOUND, ...",
  ),
  request_id: z.string(),
  message: z.string().optional().describe(
    "the same text as error, on /invocations only (MLflow clients read it)",
  ),
  details: z.array(z.object({ record: z.number().int().optional(), field: z.string(), message: z.string() }))
    .optional().describe("one entry per invalid field (422)"),
});

const InvocationsRequestSchema = z.union([
  z.object({
    dataframe_split: z.object({
      columns: z.array(z.string()).optional(),
      index: z.array(z.unknown()).optional(),
      data: z.array(z.array(z.unknown())),
    }),
    params: z.record(z.string(), z.unknown()).optional(),
  }),
  z.object({ dataframe_records: z.array(z.record(z.string(), z.unknown())) }),
  z.object({ instances: z.union([z.array(z.unknown()), z.record(z.string(), z.unknown())]) }),
  z.object({ inputs: z.union([z.array(z.unknown()), z.record(z.string(), z.unknown())]) }),
]);

const InvocationsResponseSchema = z.object({ predictions: z.array(Scalar) });

const ReadySchema = z.object({
  status: z.enum(["ready", "degraded", "loading", "draining"]),
  model: z.string().nullable(),
  version: z.string().nullable(),
  worker: z.string(),
  error: z.string().nullable().optional(),
  prediction_log: z.object({
    ok: z.boolean(),
    last_error: z.string().nullable(),
    pending: z.number(),
    dropped: z.number(),
  }),
});

const ModelInfoSchema = z.object({
  name: z.string(),
  version: z.string(),
  uri: z.string(),
  loaded_at: z.string(),
  signature: z.unknown(),
  metrics: z.record(z.string(), z.unknown()),
  classes: z.array(z.string()),
});

const FeatureStatusSchema = z.enum(["present", "missing", "expired"]);

/** /features' answer; each row also carries the entity's id under the join key. */
const FeaturesResponseSchema = z.object({
  model: z.string(),
  version: z.string(),
  feature_service: z.string(),
  join_key: z.string().describe("the entity's join key, e.g. customer_id"),
  features: z.array(z.string()).describe("the features answered, in order"),
  rows: z.array(
    z.object({
      values: z.record(z.string(), z.unknown()).describe("feature -> value (null unless present)"),
      statuses: z.record(z.string(), FeatureStatusSchema).describe(
        "feature -> present, missing (never materialized) or expired (older than its view's TTL)",
      ),
    }).catchall(z.unknown()),
  ),
});

const ReloadRequestSchema = z.object({
  model_uri: z.string().optional().describe("serve this URI from now on (default: the configured one)"),
});

function js(schema: z.ZodType): Record<string, unknown> {
  const out = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  delete out.$schema;
  return out;
}

const json = (ref: string) => ({ "application/json": { schema: { $ref: `#/components/schemas/${ref}` } } });
const err = (description: string) => ({ description, content: json("Error") });

export function buildOpenApi(model: ServedModel | null, maxBatch: number): Record<string, unknown> {
  const record = model ? js(model.validator.record) : { type: "object", additionalProperties: true };
  // a model trained on a feature service also takes its entity id, the rest joined from the online store
  const plan = model && entityPlan(model);
  const key = plan?.joinKey ?? "customer_id";
  const entityRecord = {
    type: "object",
    description: plan
      ? `${key}, and any inputs to override: the others are read from feature service ${plan.service.name}'s online features`
      : "only for a model trained on a feature service (this one is not)",
    required: [key],
    properties: {
      [key]: { oneOf: [{ type: "string", minLength: 1, maxLength: MAX_ID_LENGTH }, { type: "integer" }] },
      ...((record.properties as Record<string, unknown> | undefined) ?? {}),
    },
  };
  const recordOrEntity = plan
    ? { oneOf: [{ $ref: "#/components/schemas/Record" }, { $ref: "#/components/schemas/EntityRecord" }] }
    : { $ref: "#/components/schemas/Record" };
  const featureErrors = {
    "404": err("the model has no feature service, or the online store has nothing for an entity (named)"),
    "413": err("more entities than serve.max_batch"),
    "422": err("a missing or bad entity id, an unknown feature or query field (named)"),
    "503": err("model not loaded yet, or the online store unavailable"),
  };
  const predictErrors = {
    "400": err("malformed JSON"),
    "413": err("body or batch too large"),
    "415": err("content type is not application/json"),
    "422": err("records do not match the model's signature (one entry per field)"),
    "503": err("model not loaded yet"),
  };
  return {
    openapi: "3.1.0",
    info: {
      title: "Orchard prediction service",
      version: "1.0.0",
      description: model
        ? `Serving ${model.name} version ${model.version} (${model.uri}).`
        : "No model loaded yet: the record schema appears once the model is loaded.",
    },
    paths: {
      "/predict": {
        post: {
          summary: "Score one record (object) or a batch (array)",
          parameters: [
            {
              name: "explain",
              in: "query",
              required: false,
              description:
                "add each record's largest SHAP contributions (explanation); 422 when the engine has none",
              schema: { type: "boolean", default: false },
            },
            {
              name: "top",
              in: "query",
              required: false,
              description: "with explain=true: contributions per record",
              schema: { type: "integer", minimum: 1, maximum: MAX_TOP, default: DEFAULT_TOP },
            },
          ],
          requestBody: {
            required: true,
            content: {
              "application/json": {
                schema: {
                  oneOf: [
                    recordOrEntity,
                    {
                      type: "array",
                      items: recordOrEntity,
                      maxItems: maxBatch,
                      minItems: 1,
                    },
                  ],
                },
              },
            },
          },
          responses: {
            "200": { description: "predictions", content: json("PredictResponse") },
            ...predictErrors,
            "404": err("by entity id: the online store has no features for the entity (named)"),
            "422": err(
              "records do not match the model's signature (one entry per field), a bad explain or top, " +
                "explain=true for an engine without SHAP values, or by entity id a feature missing or " +
                "expired online under serve.feature_store.on_missing: reject (each named with the entity)",
            ),
          },
        },
      },
      "/invocations": {
        post: {
          summary:
            "MLflow scoring protocol (dataframe_split, dataframe_records, instances, inputs, text/csv)",
          requestBody: {
            required: true,
            content: {
              ...json("InvocationsRequest"),
              "text/csv": {
                schema: { type: "string", description: "a header row, then one record per line" },
              },
            },
          },
          responses: {
            "200": { description: "predicted labels", content: json("InvocationsResponse") },
            ...predictErrors,
          },
        },
      },
      "/features": {
        get: {
          summary:
            "The online features of the model's feature service for an entity, with a status per value",
          parameters: [
            {
              name: key,
              in: "query",
              required: true,
              description: "the entity id (repeat for several)",
              schema: { type: "string" },
            },
            {
              name: "features",
              in: "query",
              required: false,
              description: "comma-separated feature names (default: all of the service's)",
              schema: { type: "string" },
            },
          ],
          responses: {
            "200": { description: "values and statuses", content: json("FeaturesResponse") },
            ...featureErrors,
          },
        },
        post: {
          summary: "The online features of one or more entities",
          requestBody: {
            required: true,
            content: {
              "application/json": {
                schema: {
                  type: "object",
                  required: [key],
                  additionalProperties: false,
                  properties: {
                    [key]: {
                      oneOf: [{ type: "string" }, { type: "integer" }, {
                        type: "array",
                        items: { oneOf: [{ type: "string" }, { type: "integer" }] },
                        minItems: 1,
                        maxItems: maxBatch,
                      }],
                    },
                    features: { type: "array", items: { type: "string" }, minItems: 1 },
                  },
                },
              },
            },
          },
          responses: {
            "200": { description: "values and statuses", content: json("FeaturesResponse") },
            ...featureErrors,
          },
        },
      },
      "/health": { get: { summary: "Liveness", responses: { "200": { description: "alive" } } } },
      "/ready": {
        get: {
          summary: "Readiness: 200 once the model is loaded",
          responses: {
            "200": { description: "ready", content: json("Ready") },
            "503": { description: "not ready", content: json("Ready") },
          },
        },
      },
      "/model": {
        get: {
          summary: "The model being served: name, version, signature, metrics",
          responses: {
            "200": { description: "model", content: json("ModelInfo") },
            "503": err("model not loaded yet"),
          },
        },
      },
      "/metrics": {
        get: {
          summary: "Prometheus metrics (all workers)",
          responses: {
            "200": {
              description: "text exposition",
              content: { "text/plain": { schema: { type: "string" } } },
            },
          },
        },
      },
      "/admin/reload": {
        post: {
          summary: "Re-resolve the model URI in every worker and swap to the version it names",
          security: [{ bearer: [] }],
          requestBody: { required: false, content: json("ReloadRequest") },
          responses: {
            "200": { description: "reload outcome per worker" },
            "401": err("missing or wrong bearer token"),
            "403": err("admin API disabled (ORCHARD_ADMIN_TOKEN not set)"),
            "415": err("a body that is not application/json"),
            "422": err("a body that is not a JSON object, or a model_uri that cannot be served"),
          },
        },
      },
      "/openapi.json": {
        get: { summary: "This document", responses: { "200": { description: "OpenAPI 3.1" } } },
      },
      "/docs": {
        get: { summary: "Swagger UI (served locally)", responses: { "200": { description: "HTML" } } },
      },
    },
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      schemas: {
        Record: record,
        EntityRecord: entityRecord,
        FeaturesResponse: js(FeaturesResponseSchema),
        Prediction: js(PredictionSchema),
        Explanation: js(ExplanationSchema),
        PredictResponse: js(PredictResponseSchema),
        InvocationsRequest: js(InvocationsRequestSchema),
        InvocationsResponse: js(InvocationsResponseSchema),
        Ready: js(ReadySchema),
        ModelInfo: js(ModelInfoSchema),
        ReloadRequest: js(ReloadRequestSchema),
        Error: js(ErrorSchema),
      },
    },
  };
}
