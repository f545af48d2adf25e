// The hook scripts are imported as text (`with { type: "text" }`); Bun embeds them in the binary.
declare module "*.sh" {
  const text: string;
  export default text;
}
declare module "*.zsh" {
  const text: string;
  export default text;
}
declare module "*.fish" {
  const text: string;
  export default text;
}
