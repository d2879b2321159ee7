// Placeholder: replaced by the shared dev-server shut-down.
export default async function globalTeardown(): Promise<void> {}
