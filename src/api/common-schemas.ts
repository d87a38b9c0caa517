/** Schemas shared by route modules: path ids, list wrappers, error responses. */
import { z } from "zod";
import { errorEnvelopeSchema } from "./error-envelope.js";

export const uuidParam = (name: string) => z.uuid(`${name} must be a UUID`);

export const idParamsSchema = z.object({ id: uuidParam("id") });

export function listOf<T extends z.ZodType>(item: T) {
  return z.object({ data: z.array(item) });
}

export const errorResponse = (description: string) => ({
  description,
  content: { "application/json": { schema: errorEnvelopeSchema } },
});

/** The error responses every authenticated route can give, for the OpenAPI document. */
export const errorResponses = {
  400: errorResponse("invalid input: validation_errors names each field"),
  401: errorResponse("missing or invalid API token"),
  404: errorResponse("not found"),
  409: errorResponse("conflict"),
  413: errorResponse("request body larger than 32 MiB"),
  500: errorResponse("internal error"),
  503: errorResponse("the store is unreachable"),
};

/** For routes that connect to a user's database. */
export const targetUnreachableResponse = {
  422: errorResponse(
    "target_unreachable: the target database cannot be reached or refuses the login; summary has its reason",
  ),
};

export const noContent = z.undefined().describe("done, no content");
