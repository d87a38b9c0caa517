/**
 * Records shaped like the providers' real objects, with the variety real accounts have: Stripe customers
 * (nested address, metadata and invoice_settings, epoch-second `created`), HubSpot contacts (every property a
 * string: numbers, "true"/"false", epoch milliseconds, ISO times, empty strings), Salesforce contacts
 * (nested `attributes`, `+0000` offsets, custom `__c` fields).
 */

export interface TestRecord {
  collection_id: string;
  upstream_id: string;
  payload: Record<string, unknown>;
  upstream_updated_at: string;
}

const updatedAt = (i: number) => new Date(Date.UTC(2024, 0, 1, 0, 0, i)).toISOString();

const cities = ["South San Francisco", "Berlin", "Paris", "Austin"];
/** US zip codes as strings; one with a leading zero and one British postcode: not numbers. */
const postalCodes = ["94080", "10115", "75001", "73301", "02134", "SW1A 1AA"];

export function stripeCustomers(count: number): TestRecord[] {
  return Array.from({ length: count }, (_, i) => {
    const id = `cus_${String(1000 + i).padStart(14, "N")}`;
    return {
      collection_id: "customer",
      upstream_id: id,
      upstream_updated_at: updatedAt(i),
      payload: {
        id,
        object: "customer",
        address:
          i % 7 === 6
            ? null
            : {
                city: cities[i % cities.length],
                country: i % 2 === 0 ? "US" : "DE",
                line1: `${100 + i} Oyster Point Blvd`,
                line2: null,
                postal_code: postalCodes[i % postalCodes.length],
                state: i % 2 === 0 ? "CA" : null,
              },
        balance: i % 5 === 0 ? -500 : i * 100,
        created: 1680893993 + i * 3600,
        currency: i % 3 === 0 ? null : "usd",
        default_source: null,
        delinquent: i % 11 === 0,
        description: null,
        discount: null,
        email: `customer${i}@example.com`,
        invoice_prefix: `0759376${i}`,
        invoice_settings: {
          custom_fields: i % 4 === 0 ? [{ name: "VAT", value: `DE${i}` }] : null,
          default_payment_method: i % 2 === 0 ? `pm_${i}` : null,
          footer: null,
          rendering_options: i % 3 === 0 ? { amount_tax_display: "include_inclusive_tax" } : null,
        },
        livemode: false,
        metadata: i % 2 === 0 ? { order_id: String(6735 + i) } : {},
        name: `Jenny Rosen ${i}`,
        next_invoice_sequence: i + 1,
        phone: null,
        preferred_locales: i % 2 === 0 ? ["en"] : [],
        shipping: null,
        tax_exempt: "none",
        test_clock: null,
      },
    };
  });
}

export function hubspotContacts(count: number): TestRecord[] {
  return Array.from({ length: count }, (_, i) => {
    const id = String(51 + i);
    const created = Date.UTC(2023, 10, 14, 22, 13, 20) + i * 86_400_000;
    return {
      collection_id: "contacts",
      upstream_id: id,
      upstream_updated_at: updatedAt(i),
      payload: {
        id,
        properties: {
          createdate: new Date(created).toISOString(),
          email: `contact${i}@example.com`,
          firstname: `Ann${i}`,
          lastname: "Lee",
          hs_object_id: id,
          lastmodifieddate: String(created + 1234),
          closedate: i % 3 === 0 ? "" : String(created + 86_400_000),
          annualrevenue: i % 4 === 0 ? "125000.50" : String(1000 * i),
          numemployees: i === 3 ? "n/a" : String(10 + i),
          hs_email_optout: i % 2 === 0 ? "false" : "true",
          date_of_birth: i % 5 === 0 ? null : `199${i % 10}-05-17`,
          lifecyclestage: i % 3 === 0 ? "lead" : "customer",
          zip: postalCodes[i % postalCodes.length],
        },
        createdAt: new Date(created).toISOString(),
        updatedAt: new Date(created + 1234).toISOString(),
        archived: false,
      },
    };
  });
}

export function salesforceContacts(count: number): TestRecord[] {
  return Array.from({ length: count }, (_, i) => {
    const id = `0035e00000ABC${String(i).padStart(3, "0")}AAA`;
    return {
      collection_id: "Contact",
      upstream_id: id,
      upstream_updated_at: updatedAt(i),
      payload: {
        attributes: { type: "Contact", url: `/services/data/v59.0/sobjects/Contact/${id}` },
        Id: id,
        FirstName: `Ann${i}`,
        LastName: "Lee",
        Email: `ann${i}@example.com`,
        AccountId: i % 3 === 0 ? null : `0015e00000XYZ${i}AAA`,
        Birthdate: i % 2 === 0 ? `1985-0${1 + (i % 9)}-1${i % 10}` : null,
        CreatedDate: `2024-01-0${1 + (i % 9)}T03:04:05.000+0000`,
        SystemModstamp: `2024-01-02T03:04:${String(i % 60).padStart(2, "0")}.000+0000`,
        IsDeleted: false,
        NumberOfEmployees__c: i % 4 === 0 ? null : 12 + i,
        AnnualRevenue: 1.5e7 + i / 4,
        MailingAddress: {
          city: "San Francisco",
          country: "US",
          geocodeAccuracy: null,
          latitude: 37.7897 + i / 1000,
          longitude: -122.3972,
          postalCode: "94105",
          state: "CA",
          street: `${i} Market St`,
        },
      },
    };
  });
}
