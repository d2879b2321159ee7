// Placeholder: replaced by the shared dev-server start-up.
export default async function globalSetup(): Promise<void> {}
