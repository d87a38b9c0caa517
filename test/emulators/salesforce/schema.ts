/**
 * The objects the emulated org has and their fields, as describe reports them. Every object carries the
 * system fields (Id, IsDeleted, CreatedDate, LastModifiedDate, SystemModstamp); the rest are a few typical
 * ones per object. A test may add a custom object (`Invoice__c`) with fields of its own.
 */
export type FieldType =
  | "id"
  | "boolean"
  | "string"
  | "email"
  | "picklist"
  | "double"
  | "currency"
  | "date"
  | "datetime"
  | "reference"
  | "base64";

export interface FieldSpec {
  name: string;
  type: FieldType;
  label: string;
}

export interface ObjectSpec {
  name: string;
  label: string;
  keyPrefix: string;
  custom: boolean;
  fields: FieldSpec[];
}

const systemFields: FieldSpec[] = [
  { name: "Id", type: "id", label: "Record ID" },
  { name: "IsDeleted", type: "boolean", label: "Deleted" },
  { name: "CreatedDate", type: "datetime", label: "Created Date" },
  { name: "LastModifiedDate", type: "datetime", label: "Last Modified Date" },
  { name: "SystemModstamp", type: "datetime", label: "System Modstamp" },
];

const field = (name: string, type: FieldType, label = name): FieldSpec => ({ name, type, label });

function spec(name: string, keyPrefix: string, fields: FieldSpec[], custom = false): ObjectSpec {
  return { name, label: name.replace(/__c$/, ""), keyPrefix, custom, fields: [...systemFields, ...fields] };
}

export function standardObjects(): Map<string, ObjectSpec> {
  return new Map(
    [
      spec("Account", "001", [
        field("Name", "string", "Account Name"),
        field("Industry", "picklist"),
        field("AnnualRevenue", "currency", "Annual Revenue"),
        field("BillingCity", "string", "Billing City"),
        // a binary field: a query returns a URL, so pullers leave it out
        field("Logo", "base64"),
      ]),
      spec("Contact", "003", [
        field("FirstName", "string", "First Name"),
        field("LastName", "string", "Last Name"),
        field("Email", "email"),
        field("AccountId", "reference", "Account ID"),
      ]),
      spec("Opportunity", "006", [
        field("Name", "string"),
        field("StageName", "picklist", "Stage"),
        field("Amount", "currency"),
        field("CloseDate", "date", "Close Date"),
      ]),
      spec("Lead", "00Q", [
        field("FirstName", "string"),
        field("LastName", "string"),
        field("Company", "string"),
        field("Status", "picklist"),
      ]),
      spec("Case", "500", [
        field("Subject", "string"),
        field("Status", "picklist"),
        field("Priority", "picklist"),
      ]),
      spec("User", "005", [
        field("Username", "string"),
        field("Email", "email"),
        field("IsActive", "boolean", "Active"),
      ]),
    ].map((s) => [s.name, s]),
  );
}

export function customObject(name: string, keyPrefix: string, fields: FieldSpec[]): ObjectSpec {
  return spec(name, keyPrefix, [field("Name", "string"), ...fields], true);
}

/** Describe's answer for one object: the parts clients read (fields with type, label, nillable …). */
export function describeObject(object: ObjectSpec, version: string): Record<string, unknown> {
  const base = `/services/data/v${version}/sobjects/${object.name}`;
  return {
    name: object.name,
    label: object.label,
    labelPlural: `${object.label}s`,
    keyPrefix: object.keyPrefix,
    custom: object.custom,
    queryable: true,
    retrieveable: true,
    replicateable: true,
    deletable: true,
    undeletable: true,
    createable: true,
    updateable: true,
    urls: { sobject: base, describe: `${base}/describe`, rowTemplate: `${base}/{ID}` },
    fields: object.fields.map((f) => ({
      name: f.name,
      label: f.label,
      type: f.type,
      soapType: soapType(f.type),
      nillable: !["id", "boolean", "datetime"].includes(f.type),
      custom: f.name.endsWith("__c"),
      length: f.type === "string" || f.type === "email" ? 255 : f.type === "id" ? 18 : 0,
      filterable: f.type !== "base64",
      sortable: f.type !== "base64",
      referenceTo: f.type === "reference" ? ["Account"] : [],
    })),
  };
}

function soapType(type: FieldType): string {
  switch (type) {
    case "id":
    case "reference":
      return "tns:ID";
    case "boolean":
      return "xsd:boolean";
    case "double":
    case "currency":
      return "xsd:double";
    case "date":
      return "xsd:date";
    case "datetime":
      return "xsd:dateTime";
    case "base64":
      return "xsd:base64Binary";
    default:
      return "xsd:string";
  }
}

/** Salesforce's datetime form: milliseconds always .000 (stamps have one-second precision), +0000. */
export function formatDatetime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, ".000+0000");
}
