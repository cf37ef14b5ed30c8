// The TypeORM CLI's entry (`npm run migration:*`). The data source is built in src/ with the same
// options the app uses; compiled, it is dist/database/data-source.js.
export { default } from './src/database/data-source';
