/// The procedural scene corpus: captioned clips rendered from code, used to train the default
/// model. Only the `t2v-scenes` tool links this module.
public enum Scenes {}
