//! Desktop figures.
use crate::report::Figure;
use crate::world::World;

pub async fn memory_and_desktop(_cli: &crate::Cli, _world: &World, _rows: usize) -> Vec<Figure> {
    Vec::new()
}

pub async fn binary() -> anyhow::Result<Vec<Figure>> {
    anyhow::bail!("not yet")
}
