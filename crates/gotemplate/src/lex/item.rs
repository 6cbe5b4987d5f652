//! The lexer's tokens: item kinds, keywords, and how an item is quoted in error messages.

use std::fmt;

/// Kinds of lexical items, as in Go (comments are never emitted: Docker does not ask for them).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum ItemType {
    Error,
    Bool,
    Char,
    CharConstant,
    Complex,
    Assign,
    Declare,
    Eof,
    Field,
    Identifier,
    LeftDelim,
    LeftParen,
    Number,
    Pipe,
    RawString,
    RightDelim,
    RightParen,
    Space,
    String,
    Text,
    Variable,
    // Keywords.
    Block,
    Break,
    Continue,
    Dot,
    Define,
    Else,
    End,
    If,
    Nil,
    Range,
    Template,
    With,
}

impl ItemType {
    fn is_keyword(self) -> bool {
        use ItemType::*;
        matches!(self, Block | Break | Continue | Dot | Define | Else | End | If | Nil | Range | Template | With)
    }
}

pub(super) fn keyword(word: &str) -> Option<ItemType> {
    use ItemType::*;
    Some(match word {
        "." => Dot,
        "block" => Block,
        "break" => Break,
        "continue" => Continue,
        "define" => Define,
        "else" => Else,
        "end" => End,
        "if" => If,
        "range" => Range,
        "nil" => Nil,
        "template" => Template,
        "with" => With,
        _ => return None,
    })
}

/// A token: its type, byte offset in the input, text (or error message) and line.
#[derive(Clone, Debug)]
pub(crate) struct Item {
    pub typ: ItemType,
    pub pos: usize,
    pub val: String,
    pub line: usize,
}

impl fmt::Display for Item {
    /// Go's `item.String()`, used in "unexpected ..." messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.typ {
            ItemType::Eof => f.write_str("EOF"),
            ItemType::Error => f.write_str(&self.val),
            t if t.is_keyword() => write!(f, "<{}>", self.val),
            _ if self.val.len() > 10 => {
                let head: String = self.val.chars().take(10).collect();
                write!(f, "{}...", crate::quote::go_quote(&head))
            }
            _ => f.write_str(&crate::quote::go_quote(&self.val)),
        }
    }
}
