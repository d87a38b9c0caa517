/**
 * The properties each emulated object type has (what `GET /crm/v3/properties/{type}` lists). A property a
 * test sets must be one of these: HubSpot refuses unknown ones too. Contacts keep their last change in
 * `lastmodifieddate`, every other type in `hs_lastmodifieddate`.
 */
export const OBJECT_TYPES = ["contacts", "companies", "deals", "tickets", "products", "line_items"] as const;
export type ObjectType = (typeof OBJECT_TYPES)[number];

const common = ["hs_object_id", "createdate", "hs_createdate", "hs_merged_object_ids", "hubspot_owner_id"];

const own: Record<ObjectType, string[]> = {
  contacts: ["email", "firstname", "lastname", "phone", "company", "lifecyclestage", "lastmodifieddate"],
  companies: ["name", "domain", "industry", "city", "numberofemployees", "hs_lastmodifieddate"],
  deals: ["dealname", "amount", "dealstage", "pipeline", "closedate", "hs_lastmodifieddate"],
  tickets: [
    "subject",
    "content",
    "hs_pipeline",
    "hs_pipeline_stage",
    "hs_ticket_priority",
    "hs_lastmodifieddate",
  ],
  products: ["name", "price", "description", "hs_sku", "hs_lastmodifieddate"],
  line_items: ["name", "price", "quantity", "hs_product_id", "hs_lastmodifieddate"],
};

/** Properties whose values are timestamps (ISO-8601 in answers; epoch ms or ISO in search filters). */
export const DATE_PROPERTIES = new Set([
  "createdate",
  "hs_createdate",
  "lastmodifieddate",
  "hs_lastmodifieddate",
  "closedate",
]);
const NUMBER_PROPERTIES = new Set(["hs_object_id", "amount", "price", "quantity", "numberofemployees"]);

export function propertyNames(type: ObjectType): string[] {
  return [...common, ...own[type]];
}

export function modifiedProperty(type: ObjectType): string {
  return type === "contacts" ? "lastmodifieddate" : "hs_lastmodifieddate";
}

/** A property's definition as the properties API answers it. */
export function propertyDefinition(
  type: ObjectType,
  name: string,
  createdAt: string,
): Record<string, unknown> {
  const kind = DATE_PROPERTIES.has(name) ? "datetime" : NUMBER_PROPERTIES.has(name) ? "number" : "string";
  return {
    updatedAt: createdAt,
    createdAt,
    name,
    label: name.replace(/^hs_/, "").replace(/_/g, " "),
    type: kind,
    fieldType: kind === "datetime" ? "date" : kind === "number" ? "number" : "text",
    description: "",
    groupName: `${type.replace(/s$/, "")}information`,
    options: [],
    displayOrder: -1,
    calculated: false,
    externalOptions: false,
    hasUniqueValue: name === "hs_object_id",
    hidden: false,
    modificationMetadata: {
      archivable: true,
      readOnlyDefinition: true,
      readOnlyValue: name.startsWith("hs_"),
    },
    formField: false,
    archived: false,
  };
}

/** A value as a number for comparisons: timestamps and numbers; undefined when it is neither. */
export function comparable(property: string, value: unknown): number | undefined {
  if (value === null || value === undefined || value === "") return undefined;
  const text = String(value);
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  if (DATE_PROPERTIES.has(property)) {
    const ms = Date.parse(text);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}
