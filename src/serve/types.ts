/**
 * What the service needs from a loaded model. The contracts are defined where
 * models are resolved and loaded (src/registry/loader.ts); serve re-exports them
 * so its modules name them locally without the registry importing serve.
 */
export type { ModelLoader, ModelResolver, ResolvedModel, ServableModel } from "../registry/loader.ts";
