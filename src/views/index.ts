/** Typed views of a consumer's table: a column per payload key, inferred from the rows in the target. */
export { defaultViewName, snakeCase } from "./column-names.js";
export { TypedViews, type TypedViewsDeps } from "./typed-views.js";
export {
  type ColumnType,
  columnTypes,
  type InferredColumn,
  inferColumns,
  type PathCounts,
} from "./view-inference.js";
export * from "./view-schemas.js";
export { columnExpression, createViewSql, type ViewDefinition } from "./view-sql.js";
