// Drives graphql-js 16 against a live Inspector Gadget for TestIntrospectionGraphQLJS.
//
//   node introspect.mjs query        print getIntrospectionQuery() with every option on
//   node introspect.mjs check URL    send that query to URL (the /graphql endpoint), build a
//                                    client schema from the answer and print a JSON summary
//
// Exits non-zero with the reason on stderr when the server refuses the query or the answer
// does not make a valid schema.
import { getIntrospectionQuery, buildClientSchema, assertValidSchema, printSchema } from 'graphql';

const allOptions = {
  descriptions: true,
  specifiedByUrl: true,
  directiveIsRepeatable: true,
  schemaDescription: true,
  inputValueDeprecation: true,
  oneOf: true,
};

const [mode, url] = process.argv.slice(2);
if (mode === 'query') {
  process.stdout.write(getIntrospectionQuery(allOptions));
} else if (mode === 'check' && url) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ query: getIntrospectionQuery(allOptions), operationName: 'IntrospectionQuery' }),
  });
  const body = await res.json();
  if (res.status !== 200 || body.errors) {
    console.error(`introspection refused: HTTP ${res.status} ${JSON.stringify(body.errors)}`);
    process.exit(1);
  }
  const schema = buildClientSchema(body.data);
  assertValidSchema(schema);
  const query = schema.getQueryType();
  const mutation = schema.getMutationType();
  console.log(JSON.stringify({
    queryFields: Object.keys(query.getFields()).sort(),
    mutationFields: mutation ? Object.keys(mutation.getFields()).sort() : [],
    types: Object.keys(schema.getTypeMap()).length,
    sdlBytes: printSchema(schema).length,
  }));
} else {
  console.error('usage: node introspect.mjs query | check URL');
  process.exit(2);
}
