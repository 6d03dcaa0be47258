import XCTest
@testable import Scenes
