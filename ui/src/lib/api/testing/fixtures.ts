// Documents and files the component tests share.

/** A small OpenAPI 3.0 document with a local `$ref` (JSON: the fake backend reads JSON only). */
export const PETSTORE = {
  openapi: "3.0.3",
  info: { title: "Swagger Petstore", version: "1.0.0" },
  servers: [{ url: "https://petstore.example/v1" }],
  paths: {
    "/pets": {
      get: {
        operationId: "listPets",
        summary: "List all pets",
        parameters: [{ name: "limit", in: "query", required: false, description: "How many", schema: { type: "integer" } }],
      },
    },
    "/pets/{petId}": {
      get: {
        operationId: "showPetById",
        summary: "Info for a specific pet",
        parameters: [{ $ref: "#/components/parameters/PetId" }],
      },
    },
  },
  components: { parameters: { PetId: { name: "petId", in: "path", required: true, schema: { type: "string" } } } },
};

/** A CSV file with personal information (a valid resident ID checksum) and a text column. */
export const CONTACTS_CSV = [
  "name,phone,email,id_number,age",
  "张三,13812345678,zhang@example.com,11010519491231002X,34",
  "李四,13912345679,li@example.org,110105194912310021,x",
].join("\n");

/** A CSV file whose fourth line has two fields where the header has five. */
export const RAGGED_CSV = ["name,phone,email,id_number,age", "a,1,b,c,2", "d,3,e,f,4", "g,5"].join("\n");
