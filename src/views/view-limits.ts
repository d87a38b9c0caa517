/** How many rows a view's inference reads: in their own module, so the CLI's options need not load the schemas. */
export const defaultSampleRows = 1000;
export const maxSampleRows = 10_000;
