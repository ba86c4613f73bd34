// The package's entry point: the components other Pulumi programs use (the schema is inferred from these).
export { NixosImage } from "../components/package/nixosImage.ts";
