/**
 * SSH key pairs for targets behind a bastion: `/v1/targets/postgres/ssh-keys…`. The service makes the pair
 * and shows the public key to install on the bastion; a target uses it through `ssh_tunnel.key_id`. The
 * private key is never returned.
 */
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { sshKeySchema } from "../../targets/index.js";
import { errorResponses, idParamsSchema } from "../common-schemas.js";
import type { ServerDeps } from "../server-deps.js";

export function sshKeyRoutes(server: FastifyInstance, { targets }: ServerDeps): void {
  const app = server.withTypeProvider<ZodTypeProvider>();
  const tags = ["targets"];

  app.post(
    "/v1/targets/postgres/ssh-keys",
    {
      schema: {
        tags,
        operationId: "createSshKey",
        summary: "Make an SSH key pair for a bastion tunnel",
        description:
          "Answers the public key to install in the tunnel user's authorized_keys on the bastion. Use the " +
          "key in a target with ssh_tunnel.key_id instead of private_key. The private key is encrypted at " +
          "rest and never returned.",
        response: { 201: sshKeySchema, ...errorResponses },
      },
    },
    async (_request, reply) => reply.code(201).send(await targets.sshKeys.create()),
  );

  app.get(
    "/v1/targets/postgres/ssh-keys/:id",
    {
      schema: {
        tags,
        operationId: "getSshKey",
        summary: "Get the public key of an SSH key pair made by the service",
        params: idParamsSchema,
        response: { 200: sshKeySchema, ...errorResponses },
      },
    },
    async (request) => targets.sshKeys.get(request.params.id),
  );
}
