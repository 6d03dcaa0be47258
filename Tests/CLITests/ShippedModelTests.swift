import Foundation
import XCTest

/// The shipped model and the recipe that makes it agree: `scripts/train-default.sh` trains the
/// teacher with `samples/latent-model.json`, so the denoiser configuration stored in
/// `weights/t2v-default.safetensors` must hold every setting of that file (the input channels
/// excepted: the autoencoder's latent channels set them). A recipe changed without a new model
/// shipped, or a model shipped from another recipe, fails here.
final class ShippedModelTests: XCTestCase {
    func testTheShippedModelFollowsTheRecipesConfiguration() throws {
        let weights = try CLI.shippedModel()
        let recipe = CLI.checkout.appendingPathComponent("samples/latent-model.json").path
        // The file's metadata as Python's safetensors reads it (a reader other than the one that wrote it).
        let script = """
        import json, sys
        from safetensors import safe_open
        meta = safe_open(sys.argv[1], "np").metadata()
        shipped = json.loads(meta["t2v.denoiser_config"]); recipe = json.load(open(sys.argv[2]))
        diff = sorted(k for k in recipe if k != "inChannels" and shipped.get(k) != recipe[k])
        print(json.dumps({"differ": diff, "latent": "t2v.autoencoder_config" in meta,
                          "inChannels": shipped["inChannels"]}))
        """
        let (status, out) = try RenderCLITests.sh(["python3", "-c", script, weights, recipe])
        XCTAssertEqual(status, 0, out)
        let doc = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        XCTAssertEqual(doc["differ"] as? [String], [], "settings of \(recipe) that the shipped model does not have")
        XCTAssertEqual(doc["latent"] as? Bool, true, "the shipped model carries its autoencoder")
        XCTAssertEqual(doc["inChannels"] as? Int, 4, "the denoiser reads the autoencoder's 4 latent channels")
    }
}
